/**
 * `Capture into {label}`: a live camera preview with a `Camera` choice and `Mirror`; `Take photo`
 * stores one frame, `Hold to record` (pointer or Space/Enter held) stores a burst at
 * CAPTURE_FPS frames per second while held. Frames go to the capture slice, which stores and
 * embeds them as they come; the camera stops when the dialog closes.
 */
import { useCallback, useEffect, useRef, useState } from 'react';
import type { LabelRecord } from '../core/storage/schema';
import type { CaptureSession } from '../state/captureSlice';
import { useLoupe } from '../state/react';
import { Dialog } from './Dialog';
import { encodeFrame, useCamera } from './useCamera';

/** Burst rate: a few distinct poses per second without flooding the project with near-copies. */
export const CAPTURE_FPS = 4;

export function CaptureDialog(props: { label: LabelRecord; open: boolean; onClose: () => void }) {
  return (
    <Dialog title={`Capture into ${props.label.name}`} open={props.open} onClose={props.onClose}>
      <CaptureBody label={props.label} onClose={props.onClose} />
    </Dialog>
  );
}

function CaptureBody({ label, onClose }: { label: LabelRecord; onClose: () => void }) {
  const startCapture = useLoupe((s) => s.startCapture);
  const videoRef = useRef<HTMLVideoElement>(null);
  const [deviceId, setDeviceId] = useState('');
  const [mirror, setMirror] = useState(true);
  const [captured, setCaptured] = useState(0);
  const [recording, setRecording] = useState(false);
  const camera = useCamera(videoRef, deviceId);
  // The running burst: its session and timer live outside React state (a frame must never wait
  // for a render), and the unmount cleanup below ends a burst still held when the dialog closes.
  const burst = useRef<{
    session: CaptureSession;
    timer: ReturnType<typeof setInterval>;
    /** Frames being encoded: the session finishes only after they are queued. */
    grabs: Promise<void>[];
  } | null>(null);
  const mirrorRef = useRef(mirror);
  useEffect(() => {
    mirrorRef.current = mirror;
  }, [mirror]);

  const grab = useCallback(async (session: CaptureSession): Promise<void> => {
    const video = videoRef.current;
    if (!video) return;
    const frame = await encodeFrame(video, mirrorRef.current);
    if (!frame) return;
    session.add(frame);
    setCaptured((n) => n + 1);
  }, []);

  const stop = useCallback((): void => {
    const running = burst.current;
    if (!running) return;
    burst.current = null;
    clearInterval(running.timer);
    setRecording(false);
    void Promise.all(running.grabs).then(() => running.session.finish());
  }, []);

  const start = (): void => {
    if (burst.current || !camera.ready) return;
    const session = startCapture(label.id);
    const grabs = [grab(session)];
    const timer = setInterval(() => grabs.push(grab(session)), 1000 / CAPTURE_FPS);
    burst.current = { session, timer, grabs };
    setRecording(true);
  };

  useEffect(() => stop, [stop]);

  const takePhoto = async (): Promise<void> => {
    const session = startCapture(label.id);
    await grab(session);
    await session.finish();
  };

  return (
    <>
      {camera.error && <p role="alert">Camera unavailable: {camera.error}</p>}
      <div className="webcam capture">
        <video
          ref={videoRef}
          muted
          playsInline
          aria-label="Camera preview"
          style={{ transform: mirror ? 'scaleX(-1)' : undefined }}
        />
      </div>
      <div className="try-actions">
        <label className="inline">
          Camera
          <select value={deviceId} onChange={(e) => setDeviceId(e.target.value)}>
            <option value="">Default</option>
            {camera.devices.map((d, i) => (
              <option key={d.deviceId || i} value={d.deviceId}>
                {d.label || `Camera ${i + 1}`}
              </option>
            ))}
          </select>
        </label>
        <label className="inline">
          <input type="checkbox" checked={mirror} onChange={(e) => setMirror(e.target.checked)} />
          Mirror
        </label>
      </div>
      <div className="try-actions">
        <button type="button" disabled={!camera.ready} onClick={() => void takePhoto()}>
          Take photo
        </button>
        <button
          type="button"
          disabled={!camera.ready}
          aria-pressed={recording}
          onPointerDown={(e) => {
            if (e.button !== 0) return;
            e.currentTarget.setPointerCapture(e.pointerId);
            start();
          }}
          onPointerUp={stop}
          onPointerCancel={stop}
          onLostPointerCapture={stop}
          onKeyDown={(e) => {
            if (e.key !== ' ' && e.key !== 'Enter') return;
            e.preventDefault();
            if (!e.repeat) start();
          }}
          onKeyUp={(e) => {
            if (e.key !== ' ' && e.key !== 'Enter') return;
            e.preventDefault();
            stop();
          }}
          onBlur={stop}
        >
          Hold to record
        </button>
        <span className="project-meta" role="status" aria-label="Captured frames">
          {captured} captured
        </span>
      </div>
      <div className="dialog-actions">
        <button type="button" onClick={onClose}>
          Close
        </button>
      </div>
    </>
  );
}
