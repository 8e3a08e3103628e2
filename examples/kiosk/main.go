// Command kiosk serves the kiosk example and its stand-in back office (see backoffice/), on another origin
// than the payroc proxy:
//
//	PROXY_ADMIN_KEY=… go run ./examples/kiosk -proxy http://127.0.0.1:8080 -addr localhost:8090
//
// The proxy must run with the same PROXY_ADMIN_KEY and -allow-origin http://localhost:8090.
package main

import (
	"flag"
	"fmt"
	"log"
	"net/http"
	"os"
	"strings"
	"time"

	"github.com/posrefund/cloud/examples/kiosk/backoffice"
)

func main() {
	addr := flag.String("addr", "localhost:8090", "listen `HOST:PORT` (the kiosk's origin)")
	proxy := flag.String("proxy", "http://127.0.0.1:8080", "the payroc proxy's origin `URL`")
	dir := flag.String("dir", "examples/kiosk", "the kiosk app's `DIR` (index.html, kiosk.js, node_modules/)")
	devices := flag.String("devices", "1850010868,1850010869", "the card readers the kiosk may drive: `S1,S2`")
	maxAmount := flag.Int64("max-amount", 50000, "the largest refund in minor units")
	ttl := flag.Duration("ttl", 5*time.Minute, "each lane token's lifetime (renewed through getToken)")
	flag.Parse()
	bo, err := backoffice.New(backoffice.Config{ProxyURL: *proxy, AdminKey: os.Getenv("PROXY_ADMIN_KEY"),
		Devices: strings.Split(*devices, ","), MaxAmount: *maxAmount, TTL: *ttl, Dir: *dir})
	if err != nil {
		log.Fatalf("%v (set PROXY_ADMIN_KEY to the proxy's)", err)
	}
	fmt.Printf("kiosk on http://%s (proxy %s)\n", *addr, *proxy)
	srv := &http.Server{Addr: *addr, Handler: bo, ReadHeaderTimeout: 10 * time.Second}
	log.Fatal(srv.ListenAndServe())
}
