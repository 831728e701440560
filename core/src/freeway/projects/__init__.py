"""Projects: CRUD, API keys (``fw_…``, stored as SHA-256) and the in-memory key cache."""
