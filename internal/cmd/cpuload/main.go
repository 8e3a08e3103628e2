// Command cpuload keeps one CPU core busy until it is stopped, so `make test-loaded` can prove that no test
// depends on how fast the machine is: the Makefile starts two of them beside `make test` and kills them after,
// pass or fail.
//
//	cpuload [-for 2h]
//
// It stops on SIGINT or SIGTERM, after -for, or as soon as its parent is gone (the make that started it was
// killed before it could clean up), so a busy loop never outlives the run it was loading.
package main

import (
	"context"
	"flag"
	"fmt"
	"os"
	"os/signal"
	"runtime"
	"syscall"
	"time"
)

func main() {
	limit := flag.Duration("for", 2*time.Hour, "stop after this long at the latest")
	flag.Parse()
	if *limit <= 0 {
		fmt.Fprintln(os.Stderr, "cpuload: -for must be positive")
		os.Exit(2)
	}
	runtime.GOMAXPROCS(1) // one core: the Makefile starts as many processes as it wants cores loaded
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	ctx, cancel := context.WithTimeout(ctx, *limit)
	defer cancel()
	go watchParent(ctx, cancel, os.Getppid(), time.Second)
	spin(ctx)
}

// spin burns CPU until ctx ends. It looks at ctx only every few thousand rounds, so nearly all its time is
// arithmetic, and returns how many rounds it ran (for its test).
func spin(ctx context.Context) uint64 {
	var rounds, x uint64 = 0, 1
	for {
		for range 1 << 14 {
			x = x*6364136223846793005 + 1442695040888963407 // an LCG step the compiler cannot fold away
		}
		rounds++
		select {
		case <-ctx.Done():
			runtime.KeepAlive(x)
			return rounds
		default:
		}
	}
}

// watchParent cancels when the process's parent changes (it was re-parented because its parent died).
func watchParent(ctx context.Context, cancel context.CancelFunc, parent int, every time.Duration) {
	t := time.NewTicker(every)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
			if os.Getppid() != parent {
				cancel()
				return
			}
		}
	}
}
