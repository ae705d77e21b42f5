"""Live tests run the real CLI on granian, the one HTTP server (docs/limits.md)."""
