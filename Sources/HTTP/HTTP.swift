// Placeholder; replaced by the HTTP implementation.
