import type { Redis } from "ioredis";
import { failSpan, SpanKind, startChildSpan } from "./spans.ts";

type SendCommand = Redis["sendCommand"];
type Command = Parameters<SendCommand>[0];

/**
 * Records a span per Redis command sent while a span is current (the request path; a job). ioredis sends
 * a command offline-queued during a reconnect a second time through sendCommand: it is recorded once.
 * Call only when tracing is on: the client is then patched, otherwise left untouched.
 */
export function traceRedis(client: Redis, role: string): void {
  const send: SendCommand = client.sendCommand.bind(client);
  const seen = new WeakSet<Command>();
  client.sendCommand = ((command: Command, stream?: unknown) => {
    if (!seen.has(command)) {
      seen.add(command);
      const span = startChildSpan(
        `redis ${command.name}`,
        {
          "db.system.name": "redis",
          "db.operation.name": command.name.toUpperCase(),
          "plant.redis.role": role,
        },
        SpanKind.CLIENT,
      );
      if (span) {
        command.promise.then(
          () => span.end(),
          (err: unknown) => {
            failSpan(span, err);
            span.end();
          },
        );
      }
    }
    return send(command, stream as never);
  }) as SendCommand;
}
