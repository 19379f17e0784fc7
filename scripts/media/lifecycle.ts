import { PutBucketLifecycleConfigurationCommand, S3ServiceException } from "@aws-sdk/client-s3";
import type { Config } from "../../src/config/index.ts";
import { lifecycleRules } from "../../src/infra/storage/lifecycle-rules.ts";
import { mediaS3Client } from "./s3-client.ts";

/** The request as the SDK would put it on the wire (after serialisation, checksums and signing). */
export type CapturedRequest = {
  method: string;
  url: string;
  headers: Record<string, string>;
  body: string;
};

type HttpRequestLike = {
  method: string;
  protocol: string;
  hostname: string;
  port?: number;
  path: string;
  query?: Record<string, string | string[] | null>;
  headers: Record<string, string>;
  body?: unknown;
};

function urlOf(req: HttpRequestLike): string {
  const query = Object.entries(req.query ?? {})
    .map(([k, v]) => (v === null || v === "" ? k : `${k}=${encodeURIComponent(String(v))}`))
    .join("&");
  return `${req.protocol}//${req.hostname}${req.port ? `:${req.port}` : ""}${req.path}${query ? `?${query}` : ""}`;
}

function bodyText(body: unknown): string {
  if (body === undefined || body === null) return "";
  if (typeof body === "string") return body;
  if (body instanceof Uint8Array) return new TextDecoder().decode(body);
  throw new Error("unexpected streamed lifecycle body");
}

/**
 * Writes the bucket's lifecycle configuration (PutBucketLifecycleConfiguration). With `dryRun`, the SDK builds
 * the exact request (XML, checksum header, signature) but a handler that never sends it answers in its place,
 * and that request is returned for printing.
 */
export async function putLifecycle(
  config: Pick<Config, "storage" | "lifecycle">,
  opts: { dryRun: boolean },
): Promise<CapturedRequest> {
  let captured: CapturedRequest | undefined;
  const s3 = config.storage.s3;
  const client = opts.dryRun
    ? mediaS3Client(
        {
          ...s3,
          // Nothing is sent: placeholder credentials let the SDK sign without looking any up.
          accessKeyId: s3.accessKeyId ?? "DRY-RUN",
          secretAccessKey: s3.secretAccessKey ?? "DRY-RUN",
        },
        {
          maxAttempts: 1,
          requestHandler: {
            async handle(request: HttpRequestLike) {
              captured = capture(request);
              return { response: { statusCode: 200, headers: {}, body: new Uint8Array(0) } };
            },
            updateHttpClientConfig() {},
            httpHandlerConfigs: () => ({}),
          } as never,
        },
      )
    : mediaS3Client(s3);
  // On the wire (not dry), the request is observed by a middleware after signing, for the same printout.
  client.middlewareStack.add(
    (next) => async (args) => {
      captured ??= capture(args.request as HttpRequestLike);
      return next(args);
    },
    { step: "finalizeRequest", priority: "low", name: "captureLifecycleRequest" },
  );
  try {
    await client.send(
      new PutBucketLifecycleConfigurationCommand({
        Bucket: s3.bucket,
        LifecycleConfiguration: { Rules: lifecycleRules(config.lifecycle) },
      }),
      { abortSignal: AbortSignal.timeout(s3.timeoutMs) },
    );
  } catch (err) {
    throw new Error(lifecycleFailure(err), { cause: err });
  } finally {
    client.destroy();
  }
  if (!captured) throw new Error("the lifecycle request was not captured");
  return captured;
}

function capture(req: HttpRequestLike): CapturedRequest {
  return { method: req.method, url: urlOf(req), headers: { ...req.headers }, body: bodyText(req.body) };
}

function lifecycleFailure(err: unknown): string {
  if (err instanceof S3ServiceException) {
    const status = err.$metadata.httpStatusCode;
    if (status === 501) {
      return `the S3 server does not implement lifecycle configuration (501 ${err.name}); set the rules with its own tools or use a server that does`;
    }
    return `the S3 server refused the lifecycle configuration (${status} ${err.name}: ${err.message})`;
  }
  return `the lifecycle configuration was not written: ${String(err)}`;
}
