/** A throwaway self-signed certificate for 127.0.0.1 (openssl), for servers that must speak https in tests. */
import { mkdtemp, readFile, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";

export type TestCertificate = { cert: string; key: string; certPath: string; remove(): Promise<void> };

export async function selfSignedCertificate(): Promise<TestCertificate> {
  const dir = await mkdtemp(join(tmpdir(), "plantc-tls-"));
  const certPath = join(dir, "cert.pem");
  const keyPath = join(dir, "key.pem");
  const proc = Bun.spawn(
    [
      "openssl",
      "req",
      "-x509",
      "-newkey",
      "ec",
      "-pkeyopt",
      "ec_paramgen_curve:prime256v1",
      "-nodes",
      "-days",
      "2",
      "-subj",
      "/CN=127.0.0.1",
      "-addext",
      "subjectAltName=IP:127.0.0.1",
      "-keyout",
      keyPath,
      "-out",
      certPath,
    ],
    { stdin: "ignore", stdout: "ignore", stderr: "pipe" },
  );
  if ((await proc.exited) !== 0) {
    const err = await new Response(proc.stderr as ReadableStream).text();
    await rm(dir, { recursive: true, force: true });
    throw new Error(`openssl could not make a certificate: ${err}`);
  }
  // Readable by the unprivileged user of a container it is mounted into.
  await Bun.spawn(["chmod", "-R", "a+rX", dir]).exited;
  return {
    cert: await readFile(certPath, "utf8"),
    key: await readFile(keyPath, "utf8"),
    certPath,
    remove: () => rm(dir, { recursive: true, force: true }),
  };
}
