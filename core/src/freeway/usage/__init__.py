"""Usage records, the batching queue, sinks and the daily rollup."""
