package server

// plantedKeySpelling is a test-only switch (set through export_test.go, never in the proxy) that plants one
// known bug, keeping the Idempotency-Key as sent instead of its canonical form, so the proxy model
// (model_test.go) can show that it finds it.
var plantedKeySpelling bool
