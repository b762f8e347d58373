/**
 * Interactive exec and attach on Docker (kubectl exec / attach): the engine's hijacked
 * connection, stdin included, Docker's stdout/stderr framing undone when there is no TTY.
 *
 * Docker has no call that stops an exec'd process, and closing the hijacked connection does not
 * stop it either (a `sleep 1000` would outlive the session). `kill()` therefore sends SIGKILL to
 * the process by its host pid (exec inspect's `Pid`), and when that is not possible (the engine
 * is on another machine) runs `kill -KILL <pid in the container>` inside the container.
 *
 * A streaming exec carries `BERTH_STREAM_EXEC=1` in its environment. When a node agent dies, its
 * sessions die with it but Docker keeps their processes; the next agent finds them among its
 * containers' running execs by that mark (`/proc/<pid>/environ`, so only on the engine's own
 * machine) and kills them (`reapStreamExecs`). Probes and hooks (`exec`) carry no mark.
 */
import { readFileSync } from "node:fs";
import type { Duplex } from "node:stream";
import type Docker from "dockerode";
import { type ExecStream, type ExecStreamOptions, type LogChunk, RuntimeError } from "../../model/container_runtime.ts";
import { FrameDecoder } from "./streams.ts";

/** The environment variable that marks a process as a streaming exec's. */
export const STREAM_EXEC_MARK = "BERTH_STREAM_EXEC";

/** Starts `cmd` in container `id` with its stdio attached. */
export async function dockerExecStream(docker: Docker, id: string, cmd: string[], opts: ExecStreamOptions): Promise<ExecStream> {
  const container = docker.getContainer(id);
  const ex = await container.exec({ Cmd: cmd, Env: [`${STREAM_EXEC_MARK}=1`], AttachStdin: opts.stdin, AttachStdout: true, AttachStderr: true, Tty: opts.tty }).catch((e) => {
    throw new RuntimeError(`exec create failed: ${(e as Error).message}`, false, { cause: e });
  });
  const stream = (await ex.start({ hijack: true, stdin: opts.stdin, Tty: opts.tty }).catch((e) => {
    throw new RuntimeError(`exec start failed: ${(e as Error).message}`, false, { cause: e });
  })) as unknown as Duplex;
  let killed = false;
  const kill = async () => {
    if (killed) return;
    killed = true;
    try {
      const info = await ex.inspect();
      if (info.Running && info.Pid) await killExecProcess(docker, id, info.Pid);
    } catch {
      // The exec (or its container) is gone already: nothing is left to stop.
    }
    stream.destroy();
  };
  const exitCode = async (): Promise<number> => {
    // The stream ends as the process exits; the engine may report it Running a moment longer.
    for (let i = 0; i < 50; i++) {
      const info = await ex.inspect();
      if (!info.Running) return info.ExitCode ?? -1;
      await new Promise((r) => setTimeout(r, 20));
    }
    return -1;
  };
  return streamOf(stream, opts.tty, exitCode, kill, (w, h) => ex.resize({ w, h }).then(() => {}));
}

/** Attaches to the main process of container `id` (its stdin only when the container keeps it open). */
export async function dockerAttach(docker: Docker, id: string, opts: ExecStreamOptions): Promise<ExecStream> {
  const container = docker.getContainer(id);
  const info = await container.inspect();
  const tty = !!info.Config?.Tty;
  const stream = (await container.attach({ stream: true, stdin: opts.stdin, stdout: true, stderr: true, hijack: true })) as unknown as Duplex;
  const exitCode = async () => (await container.inspect()).State?.ExitCode ?? -1;
  return streamOf(stream, tty, exitCode, async () => void stream.destroy(), (w, h) => container.resize({ w, h }).then(() => {}));
}

function streamOf(
  stream: Duplex,
  tty: boolean,
  exitCode: () => Promise<number>,
  kill: () => Promise<void>,
  resize: (w: number, h: number) => Promise<void>,
): ExecStream {
  const dec = new FrameDecoder();
  let listener: (c: LogChunk) => void = () => {};
  const early: LogChunk[] = [];
  stream.on("data", (chunk: Buffer) => {
    const chunks: LogChunk[] = tty ? [{ stream: "stdout", data: new Uint8Array(chunk) }] : dec.push(new Uint8Array(chunk));
    for (const c of chunks) listener === noop ? early.push(c) : listener(c);
  });
  const ended = new Promise<void>((resolve) => {
    stream.on("end", resolve);
    stream.on("close", resolve);
    stream.on("error", () => resolve());
  });
  const exited = ended.then(() => exitCode()).catch(() => -1);
  listener = noop;
  return {
    onOutput(fn) {
      listener = fn;
      for (const c of early.splice(0)) fn(c);
    },
    pause: () => void stream.pause(),
    resume: () => void stream.resume(),
    write: (data) =>
      new Promise<void>((resolve, reject) => {
        if (stream.writableEnded || stream.destroyed) return reject(new RuntimeError("stdin is closed", false));
        stream.write(data, (e) => (e ? reject(e) : resolve()));
      }),
    closeStdin: () => {
      if (!stream.writableEnded && !stream.destroyed) stream.end();
    },
    resize: (w, h) => resize(w, h).catch(() => {}),
    exited,
    kill,
  };
}

function noop(): void {}

async function killExecProcess(docker: Docker, containerId: string, hostPid: number): Promise<void> {
  try {
    process.kill(hostPid, "SIGKILL");
    return;
  } catch {
    // Not ours to signal from here (another machine's engine, or no permission): ask the container.
  }
  let nsPid: string | undefined;
  try {
    nsPid = /^NSpid:\s.*?(\d+)\s*$/m.exec(readFileSync(`/proc/${hostPid}/status`, "utf8"))?.[1];
  } catch {
    // /proc of another machine: fall through.
  }
  if (!nsPid) return;
  const ex = await docker.getContainer(containerId).exec({ Cmd: ["kill", "-KILL", nsPid], AttachStdout: false, AttachStderr: false });
  await ex.start({ Detach: true });
}

/** Whether host process `pid` carries the streaming-exec mark (false when /proc cannot tell). */
function isStreamExec(pid: number): boolean {
  try {
    return readFileSync(`/proc/${pid}/environ`, "latin1").split("\0").includes(`${STREAM_EXEC_MARK}=1`);
  } catch {
    return false;
  }
}

/** Kills the marked streaming execs still running in these containers; returns how many. */
export async function reapStreamExecs(docker: Docker, containerIds: string[]): Promise<number> {
  let n = 0;
  for (const id of containerIds) {
    let execIds: string[];
    try {
      execIds = ((await docker.getContainer(id).inspect()) as { ExecIDs?: string[] | null }).ExecIDs ?? [];
    } catch {
      continue; // gone meanwhile
    }
    for (const execId of execIds) {
      const info = await docker.getExec(execId).inspect().catch(() => undefined);
      if (!info?.Running || !info.Pid || !isStreamExec(info.Pid)) continue;
      await killExecProcess(docker, id, info.Pid);
      n++;
    }
  }
  return n;
}
