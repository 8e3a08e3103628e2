package harness

import (
	"net/http"
	"time"
)

// Leave takes instance i away as a rolling deploy does: the proxy is told to stop (its Serve context ends, as
// on SIGTERM) and the front, like a load balancer's health check, sends it no new request once its /readyz
// stops answering 200. Requests already on their way to it are answered by it. Leave returns once the
// instance is out of rotation; the channel closes when the proxy is gone (its shutdown grace over).
func (f *Front) Leave(i int) <-chan struct{} {
	f.mu.Lock()
	b := f.backends[i]
	f.mu.Unlock()
	gone := make(chan struct{})
	go func() {
		b.stop()
		close(gone)
	}()
	c := &http.Client{Timeout: time.Second}
	for ready(c, b.origin) {
		time.Sleep(20 * time.Millisecond) // the health check's interval
	}
	f.mu.Lock()
	b.up = false
	f.mu.Unlock()
	return gone
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
