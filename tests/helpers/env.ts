/** Endpoints of the servers scripts/test.ts started for this run. */
function required(name: string): string {
  const value = process.env[name];
  if (!value)
    throw new Error(`${name} is not set: run the suite with \`npm test\`, which starts the test servers`);
  return value;
}

export const testEnv = {
  get databaseUrl() {
    return required("TEST_DATABASE_URL");
  },
  get replicaUrl() {
    return required("TEST_DATABASE_REPLICA_URL");
  },
  get redisUrl() {
    return process.env.TEST_REDIS_URL ?? "redis://127.0.0.1:6379";
  },
  get pgPairControl() {
    return required("TEST_PG_PAIR_CONTROL");
  },
  /** The S3-compatible server (s3rver) and its bucket. */
  get s3() {
    return {
      endpoint: required("TEST_S3_ENDPOINT"),
      bucket: required("TEST_S3_BUCKET"),
      region: process.env.TEST_S3_REGION ?? "us-east-1",
      accessKeyId: required("TEST_S3_ACCESS_KEY_ID"),
      secretAccessKey: required("TEST_S3_SECRET_ACCESS_KEY"),
    };
  },
};

/**
 * What a real API or worker process of a test gets (spawnBun): this run's databases and Redis under the given key
 * prefix, JSON logs at info (tests read its lines), metrics on a free port.
 */
export function processEnv(redisKeyPrefix: string): Record<string, string> {
  return {
    NODE_ENV: "test",
    HOST: "127.0.0.1",
    DATABASE_URL: testEnv.databaseUrl,
    DATABASE_REPLICA_URL: testEnv.replicaUrl,
    REDIS_URL: testEnv.redisUrl,
    REDIS_KEY_PREFIX: redisKeyPrefix,
    LOG_LEVEL: "info",
    METRICS_PORT: "0",
  };
}
