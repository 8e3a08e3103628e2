package harness

import (
	"fmt"
	"net/http"
	"time"
)

// leaveTimeout bounds how long Leave waits for the leaving instance's /readyz to stop answering 200: a proxy
// that keeps saying ready after it was told to stop is a failure to report, not a test that hangs. A
// variable only so that the harness's own test can wait less.
var leaveTimeout = 10 * time.Second

// Leave takes instance i away as a rolling deploy does: the proxy is told to stop (its Serve context ends, as
// on SIGTERM) and the front, like a load balancer's health check, sends it no new request once its /readyz
// stops answering 200. Requests already on their way to it are answered by it. Leave returns once the
// instance is out of rotation; the channel closes when the proxy is gone (its shutdown grace over). The error
// says the instance still answered ready after 10 s; it stays in rotation then.
func (f *Front) Leave(i int) (<-chan struct{}, error) {
	f.mu.Lock()
	b := f.backends[i]
	f.mu.Unlock()
	gone := make(chan struct{})
	go func() {
		b.stop()
		close(gone)
	}()
	c := &http.Client{Timeout: time.Second}
	deadline := time.Now().Add(leaveTimeout)
	for ready(c, b.origin) {
		if time.Now().After(deadline) {
			return gone, fmt.Errorf("harness: instance %d (%s) still answers /readyz 200 %v after it was told to stop", i, b.origin, leaveTimeout)
		}
		time.Sleep(20 * time.Millisecond) // the health check's interval
	}
	f.mu.Lock()
	b.up = false
	f.mu.Unlock()
	return gone, nil
}

// ready is one health check: /readyz answers 200.
func ready(c *http.Client, origin string) bool {
	res, err := c.Get(origin + "/readyz")
	if err != nil {
		return false
	}
	res.Body.Close()
	return res.StatusCode == http.StatusOK
}
