package harness

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"net/http/httputil"
	"net/url"
	"sync"
	"time"

	"github.com/posrefund/cloud/internal/httpapi"
)

// Front is a tiny round-robin load balancer in front of several proxies, as a merchant runs them: no
// stickiness at all, request i goes to the i-th live instance in turn, and the Host header is kept (so the
// proxies rewrite links to the front's origin). Kill takes an instance away the way a crash does.
type Front struct {
	// URL is the front's origin: the page is opened at URL + "/".
	URL string

	srv  *http.Server
	done chan struct{}

	mu       sync.Mutex
	backends []*backend
	next     int
	hits     []Hit
}

// Hit is one request the front passed on: which instance (index in Stack.Proxies) answered it, and how.
type Hit struct {
	Method, Path string
	Instance     int
	Status       int
}

type backend struct {
	origin string // the instance's own origin, for Leave's readiness checks
	stop   func()
	rp     *httputil.ReverseProxy
	up     bool
	// dead ends the requests in flight to this instance when it is killed.
	dead   context.Context
	cancel context.CancelFunc
}

// StartFront starts a round-robin front on a free loopback port in front of proxies.
func StartFront(proxies ...*Proxy) (*Front, error) {
	origins := make([]string, len(proxies))
	for i, p := range proxies {
		origins[i] = p.URL
	}
	return StartFrontOf(origins, func(i int) { proxies[i].Stop() })
}

// StartFrontOf starts a round-robin front before the instances at origins (http://host:port); Kill(i) calls
// stop(i) to end instance i.
func StartFrontOf(origins []string, stop func(i int)) (*Front, error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, fmt.Errorf("harness: front listener: %w", err)
	}
	return StartFrontOn(l, origins, stop)
}

// StartFrontOn is StartFrontOf on a listener of the caller's, so that the front's address is known before the
// instances start: production instances behind it need it as their -public-url (they answer only the hosts
// they are configured for, and the front keeps the Host).
func StartFrontOn(l net.Listener, origins []string, stop func(i int)) (*Front, error) {
	if len(origins) == 0 {
		return nil, errors.New("harness: a front needs at least one instance")
	}
	f := &Front{done: make(chan struct{})}
	for i, origin := range origins {
		target, err := url.Parse(origin)
		if err != nil {
			return nil, err
		}
		b := &backend{origin: origin, stop: func() { stop(i) }, up: true}
		b.dead, b.cancel = context.WithCancel(context.Background())
		b.rp = &httputil.ReverseProxy{
			Rewrite: func(r *httputil.ProxyRequest) {
				r.SetURL(target)
				r.Out.Host = r.In.Host // the browser's origin, as a load balancer keeps it
			},
			Transport: &http.Transport{MaxIdleConnsPerHost: 32, ResponseHeaderTimeout: 5 * time.Minute},
			ErrorHandler: func(w http.ResponseWriter, r *http.Request, err error) {
				w.WriteHeader(http.StatusBadGateway) // what a load balancer answers when an instance dies mid-request
			},
		}
		f.backends = append(f.backends, b)
	}
	f.URL = "http://" + l.Addr().String()
	f.srv = &http.Server{Handler: f, ReadHeaderTimeout: 10 * time.Second}
	go func() {
		defer close(f.done)
		_ = f.srv.Serve(l)
	}()
	return f, nil
}

// pick returns the next live instance, round robin.
func (f *Front) pick() (int, *backend) {
	f.mu.Lock()
	defer f.mu.Unlock()
	for range f.backends {
		i := f.next % len(f.backends)
		f.next++
		if b := f.backends[i]; b.up {
			return i, b
		}
	}
	return -1, nil
}

// ServeHTTP passes r to the next live instance.
func (f *Front) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	i, b := f.pick()
	if b == nil {
		http.Error(w, "no live instance", http.StatusServiceUnavailable)
		return
	}
	ctx, cancel := context.WithCancel(r.Context())
	defer cancel()
	stop := context.AfterFunc(b.dead, cancel)
	defer stop()
	sw := &httpapi.StatusWriter{ResponseWriter: w}
	b.rp.ServeHTTP(sw, r.WithContext(ctx))
	f.mu.Lock()
	f.hits = append(f.hits, Hit{Method: r.Method, Path: r.URL.Path, Instance: i, Status: sw.Status})
	f.mu.Unlock()
}

// Kill takes instance i (an index in the proxies given to StartFront) away as a crash does: the front
// stops sending it requests, the requests in flight to it fail (502 from the front, as from a load
// balancer), then the proxy stops.
func (f *Front) Kill(i int) {
	f.mu.Lock()
	b := f.backends[i]
	b.up = false
	f.mu.Unlock()
	b.cancel()
	b.stop()
}

// Hits returns every request the front passed on so far, in the order they were answered.
func (f *Front) Hits() []Hit {
	f.mu.Lock()
	defer f.mu.Unlock()
	return append([]Hit(nil), f.hits...)
}

// Close stops the front.
func (f *Front) Close() {
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
	defer cancel()
	_ = f.srv.Shutdown(ctx)
	_ = f.srv.Close()
	<-f.done
	for _, b := range f.backends {
		b.cancel()
	}
}
