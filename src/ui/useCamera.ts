/**
 * The camera behind a <video>: opens the chosen device (or the default one), lists the video
 * inputs once permission is granted, and stops every track when the device changes or the video
 * unmounts. `encodeFrame` turns the current video frame into a JPEG Blob, mirrored on request.
 */
import { useEffect, useState, type RefObject } from 'react';

export interface Camera {
  devices: MediaDeviceInfo[];
  error: string | null;
  /** The stream plays and frames can be read. */
  ready: boolean;
}

export function useCamera(videoRef: RefObject<HTMLVideoElement | null>, deviceId: string): Camera {
  const [devices, setDevices] = useState<MediaDeviceInfo[]>([]);
  const [error, setError] = useState<string | null>(null);
  // The device whose stream plays: after a switch, not ready until the new stream does.
  const [playing, setPlaying] = useState<string | null>(null);

  useEffect(() => {
    let stream: MediaStream | null = null;
    let stopped = false;
    const video = videoRef.current;
    void (async () => {
      try {
        stream = await navigator.mediaDevices.getUserMedia({
          video: deviceId ? { deviceId: { exact: deviceId } } : true,
          audio: false,
        });
        if (stopped || !video) {
          stream.getTracks().forEach((t) => t.stop());
          return;
        }
        video.srcObject = stream;
        await video.play();
        if (stopped) return;
        setError(null);
        setPlaying(deviceId);
        setDevices(
          (await navigator.mediaDevices.enumerateDevices()).filter((d) => d.kind === 'videoinput'),
        );
      } catch (e) {
        if (!stopped) setError(e instanceof Error ? e.message : String(e));
      }
    })();
    return () => {
      stopped = true;
      stream?.getTracks().forEach((t) => t.stop());
      if (video) video.srcObject = null;
    };
  }, [deviceId, videoRef]);

  return { devices, error, ready: playing === deviceId };
}

/** The video's current frame as a JPEG (quality 0.92), flipped left-right when `mirror` is set. */
export function encodeFrame(video: HTMLVideoElement, mirror: boolean): Promise<Blob | null> {
  const width = video.videoWidth;
  const height = video.videoHeight;
  if (video.readyState < 2 || width === 0 || height === 0) return Promise.resolve(null);
  const canvas = document.createElement('canvas');
  canvas.width = width;
  canvas.height = height;
  const context = canvas.getContext('2d');
  if (!context) return Promise.resolve(null);
  if (mirror) {
    context.translate(width, 0);
    context.scale(-1, 1);
  }
  context.drawImage(video, 0, 0, width, height);
  return new Promise((resolve) => canvas.toBlob(resolve, 'image/jpeg', 0.92));
}
