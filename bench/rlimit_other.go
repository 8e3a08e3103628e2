//go:build !unix

package bench

// raiseOpenFileLimit cannot do anything here; P4 assumes the platform's default.
func raiseOpenFileLimit(uint64) uint64 { return 1 << 16 }
