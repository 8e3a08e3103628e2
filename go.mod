module github.com/posrefund/cloud

go 1.26.0

require golang.org/x/sync v0.25.0

require github.com/andybalholm/brotli v1.3.0 // indirect
