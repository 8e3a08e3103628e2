package server

// PlantKeySpelling plants the bug of keeping the Idempotency-Key's spelling (see planted.go) until the test
// ends.
func PlantKeySpelling(cleanup func(func())) {
	plantedKeySpelling = true
	cleanup(func() { plantedKeySpelling = false })
}
