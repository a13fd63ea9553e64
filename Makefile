# Convenience targets; the scripts are the source of truth.
.PHONY: test serve bench
test:
	bash scripts/test.sh
serve:
	bash scripts/serve.sh
bench:
	bash scripts/bench.sh
