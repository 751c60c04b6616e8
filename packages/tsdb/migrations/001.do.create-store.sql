-- The PostgreSQL engine of @strata/tsdb. Runs with search_path set to the store's schema.

-- One row per series; `canonical` is canonicalSeriesKey(), compared byte-wise so that both
-- engines return series in the same order.
CREATE TABLE series (
  id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
  canonical text COLLATE "C" NOT NULL UNIQUE,
  tenant text COLLATE "C" NOT NULL,
  device text COLLATE "C" NOT NULL,
  metric text COLLATE "C" NOT NULL,
  tags jsonb NOT NULL,
  type text NOT NULL CHECK (type IN ('float', 'int', 'bool', 'string'))
);
CREATE INDEX series_tenant_metric ON series (tenant, metric, device);
CREATE INDEX series_tags ON series USING gin (tags jsonb_path_ops);

-- Raw points, range-partitioned by time (one partition per UTC day, created on demand). Exactly
-- one value column is set, by the series' type.
CREATE TABLE points (
  series_id bigint NOT NULL,
  ts timestamptz NOT NULL,
  f float8,
  i bigint,
  b boolean,
  s text,
  CHECK (num_nonnulls(f, i, b, s) = 1)
) PARTITION BY RANGE (ts);
-- Idempotent writes upsert on (series_id, ts); the same index serves per-series range reads.
CREATE UNIQUE INDEX points_series_ts ON points (series_id, ts);
-- Time-ordered appends make a BRIN index on ts tiny and good for whole-range scans.
CREATE INDEX points_ts_brin ON points USING brin (ts);

-- Rollups: count, sum, min, max of each series per 5 minutes and per hour, kept in step with
-- every write, delete and retention run in the same transaction. The sum is split so that no
-- float8 addition overflows (PostgreSQL raises where IEEE gives Infinity): `sum` adds values
-- below 2^500, `sum_big` the others scaled by 2^-600; the total is sum + sum_big * 2^600.
CREATE TABLE rollup_5m (
  series_id bigint NOT NULL,
  bucket timestamptz NOT NULL,
  count bigint NOT NULL,
  sum float8,
  sum_big float8,
  min float8,
  max float8,
  PRIMARY KEY (series_id, bucket)
);
CREATE TABLE rollup_1h (LIKE rollup_5m INCLUDING ALL);

-- Retention rules; `selector_key` identifies a selector (setting the same selector replaces).
CREATE TABLE retention (
  selector_key text COLLATE "C" PRIMARY KEY,
  selector jsonb NOT NULL,
  max_age_us bigint NOT NULL CHECK (max_age_us > 0)
);
