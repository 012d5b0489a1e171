"""Scoring a corpus (`dexter-auto predict`): read it in record batches, cut it into shards
recorded in a manifest, score each shard with the evaluation's predictor, and write each
shard's predictions as one Parquet part file, atomically, with its provenance.

- `reading`: the input (CSV, TSV, JSONL or Parquet; a file, a folder or a glob) as a stream
  of rows, never held whole in memory.
- `manifest`: which shards are done, so a killed run resumed with the same command loses
  at most the shard in flight.
- `parts`: a shard's predictions as a Parquet part file, and its rejected rows.
- `local`: the engine that runs all of it on this machine.
"""
