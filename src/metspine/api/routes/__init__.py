"""Routes under ``/api/v1``: thin translations between HTTP and the store/engine."""
