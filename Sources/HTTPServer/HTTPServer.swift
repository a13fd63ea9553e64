// Placeholder; replaced by the HTTPServer implementation.
