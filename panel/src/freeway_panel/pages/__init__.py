"""The panel's pages, one module per area; each handler calls the core services."""
