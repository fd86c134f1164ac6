-- peerscope connection metrics in ClickHouse, read from Kafka.
--
-- Three objects, the usual ClickHouse pattern for a Kafka topic:
--   1. connection_metrics_queue: a Kafka engine table, a consumer in the
--      consumer group "clickhouse-peerscope" on peerscope.connection.metrics
--      (add ClickHouse replicas to the group to scale reading out);
--   2. connection_metrics: the storage, a ReplacingMergeTree ordered by
--      (connection_id, window_start).  Kafka delivery to a consumer is at
--      least once, so a message read twice after a consumer restart
--      collapses into one row on merge (query with FINAL for exact sums);
--   3. connection_metrics_mv: the materialized view moving each message
--      from the queue into storage, extracting the fields from the JSON.
--
-- Usage: clickhouse-client --multiquery < peerscope_metrics.sql
-- (replace the broker list first; with peerscope's embedded broker, use the
-- address it prints: "peerscope: kafka: embedded broker at 127.0.0.1:PORT").
-- Field meanings: README.md "Published messages" and
-- schemas/connection_metrics.v2.schema.json (version 2 keeps every field
-- read here with its version-1 meaning: docs/schemas.md).

CREATE DATABASE IF NOT EXISTS peerscope;

CREATE TABLE IF NOT EXISTS peerscope.connection_metrics_queue
(
    raw String
)
ENGINE = Kafka
SETTINGS kafka_broker_list = 'kafka1:9092,kafka2:9092',
         kafka_topic_list = 'peerscope.connection.metrics',
         kafka_group_name = 'clickhouse-peerscope',
         kafka_format = 'JSONAsString',
         kafka_num_consumers = 1;

CREATE TABLE IF NOT EXISTS peerscope.connection_metrics
(
    window_start      DateTime64(3, 'UTC'),
    window_end        DateTime64(3, 'UTC'),
    window_seconds    UInt32,
    connection_id     LowCardinality(String),
    router            LowCardinality(String),
    ifindex           UInt32,
    admin_status      LowCardinality(String),
    oper_status       LowCardinality(String),
    capacity_bps      Nullable(UInt64),
    -- exact, from interface counters (NULL when the window had no delta)
    in_counters_bps   Nullable(Float64),
    out_counters_bps  Nullable(Float64),
    in_counters_bytes Nullable(UInt64),
    out_counters_bytes Nullable(UInt64),
    -- estimated, from flow samples, with the sampling rate and error bound
    in_samples_bps    Nullable(Float64),
    out_samples_bps   Nullable(Float64),
    in_sample_count   Nullable(UInt64),
    out_sample_count  Nullable(UInt64),
    in_error_pct_95   Nullable(Float64),
    out_error_pct_95  Nullable(Float64),
    utilisation_in    Nullable(Float64),
    utilisation_out   Nullable(Float64),
    counter_resets    UInt32,
    kafka_partition   UInt32,
    kafka_offset      UInt64
)
ENGINE = ReplacingMergeTree
PARTITION BY toYYYYMM(window_start)
ORDER BY (connection_id, window_start)
TTL toDateTime(window_start) + INTERVAL 400 DAY;

CREATE MATERIALIZED VIEW IF NOT EXISTS peerscope.connection_metrics_mv
TO peerscope.connection_metrics AS
SELECT
    parseDateTime64BestEffort(JSONExtractString(raw, 'window', 'start'), 3) AS window_start,
    parseDateTime64BestEffort(JSONExtractString(raw, 'window', 'end'), 3) AS window_end,
    JSONExtractUInt(raw, 'window', 'seconds') AS window_seconds,
    JSONExtractString(raw, 'connection_id') AS connection_id,
    JSONExtractString(raw, 'router') AS router,
    JSONExtractUInt(raw, 'ifindex') AS ifindex,
    JSONExtractString(raw, 'admin_status') AS admin_status,
    JSONExtractString(raw, 'oper_status') AS oper_status,
    JSONExtract(raw, 'capacity_bps', 'Nullable(UInt64)') AS capacity_bps,
    JSONExtract(raw, 'in', 'counters', 'bits_per_second', 'Nullable(Float64)') AS in_counters_bps,
    JSONExtract(raw, 'out', 'counters', 'bits_per_second', 'Nullable(Float64)') AS out_counters_bps,
    JSONExtract(raw, 'in', 'counters', 'bytes', 'Nullable(UInt64)') AS in_counters_bytes,
    JSONExtract(raw, 'out', 'counters', 'bytes', 'Nullable(UInt64)') AS out_counters_bytes,
    JSONExtract(raw, 'in', 'samples', 'bits_per_second', 'Nullable(Float64)') AS in_samples_bps,
    JSONExtract(raw, 'out', 'samples', 'bits_per_second', 'Nullable(Float64)') AS out_samples_bps,
    JSONExtract(raw, 'in', 'samples', 'sample_count', 'Nullable(UInt64)') AS in_sample_count,
    JSONExtract(raw, 'out', 'samples', 'sample_count', 'Nullable(UInt64)') AS out_sample_count,
    JSONExtract(raw, 'in', 'samples', 'error_pct_95', 'Nullable(Float64)') AS in_error_pct_95,
    JSONExtract(raw, 'out', 'samples', 'error_pct_95', 'Nullable(Float64)') AS out_error_pct_95,
    JSONExtract(raw, 'utilisation', 'in', 'Nullable(Float64)') AS utilisation_in,
    JSONExtract(raw, 'utilisation', 'out', 'Nullable(Float64)') AS utilisation_out,
    JSONExtractUInt(raw, 'counter_resets') AS counter_resets,
    _partition AS kafka_partition,
    _offset AS kafka_offset
FROM peerscope.connection_metrics_queue
WHERE JSONExtractString(raw, 'type') = 'connection_metrics'
  AND JSONExtractUInt(raw, 'schema_version') IN (1, 2);

-- Example: the 95th percentile of inbound bandwidth per connection, per day,
-- from exact counters where present, else from the sample estimate.
--   SELECT connection_id, toDate(window_start) AS day,
--          quantile(0.95)(coalesce(in_counters_bps, in_samples_bps)) AS in_p95_bps
--   FROM peerscope.connection_metrics FINAL
--   GROUP BY connection_id, day ORDER BY connection_id, day;
