"""Text and image feature builders, cached on disk by content hash."""
