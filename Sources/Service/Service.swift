// Placeholder; replaced by the Service implementation.
