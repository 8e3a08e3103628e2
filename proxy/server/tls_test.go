package server_test

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/json"
	"encoding/pem"
	"io"
	"math/big"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/posrefund/cloud/payroc"
)

// selfSigned writes a certificate for 127.0.0.1 and returns its files and a pool trusting it.
func selfSigned(t *testing.T) (certFile, keyFile string, pool *x509.CertPool) {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	require.NoError(t, err)
	tmpl := &x509.Certificate{SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "proxy test"},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(time.Hour),
		IPAddresses: []net.IP{net.ParseIP("127.0.0.1")}, KeyUsage: x509.KeyUsageDigitalSignature,
		ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth}}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	require.NoError(t, err)
	kb, _ := x509.MarshalECPrivateKey(key)
	dir := t.TempDir()
	certFile, keyFile = filepath.Join(dir, "cert.pem"), filepath.Join(dir, "key.pem")
	os.WriteFile(certFile, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}), 0o600)
	os.WriteFile(keyFile, pem.EncodeToMemory(&pem.Block{Type: "EC PRIVATE KEY", Bytes: kb}), 0o600)
	cert, _ := x509.ParseCertificate(der)
	pool = x509.NewCertPool()
	pool.AddCert(cert)
	return certFile, keyFile, pool
}

func TestProxyTLSServesHTTP2(t *testing.T) {
	h := newHarness(t) // the simulator behind; a second proxy on TLS in front of it
	addr, pool := serveTLS(t, h)
	tr := &http.Transport{TLSClientConfig: &tls.Config{RootCAs: pool}, ForceAttemptHTTP2: true}
	defer tr.CloseIdleConnections()
	base := "https://" + addr
	c := &payroc.Client{BaseURL: base + "/v1", Doer: payroc.HTTPDoer{Client: &http.Client{Transport: tr}},
		Tokens: payroc.NewStaticToken(h.token("front-1", 100000), nil)}
	inst, err := c.Submit(t.Context(), mustRefund(t, "1850010868", &payroc.RefundInstructionRequest{ProcessingTerminalID: "1234001",
		Order: payroc.RefundOrder{OrderID: "ORDER-1001", Description: "Refund", Amount: 4999, Currency: "USD"}}, ""))
	require.NoError(t, err)
	require.True(t, strings.HasPrefix(inst.Link.Href, base+"/v1/refund-instructions/"), "link %s is not on the proxy's https origin", inst.Link.Href)
	res, err := (&http.Client{Transport: tr}).Get(base + "/healthz")
	require.NoError(t, err)
	defer res.Body.Close()
	var hz map[string]string
	b, _ := io.ReadAll(res.Body)
	require.EqualValues(t, 2, res.ProtoMajor, "%s %s", res.Proto, b)
	require.NoError(t, json.Unmarshal(b, &hz), "%s %s", res.Proto, b)
	require.Equal(t, "ok", hz["status"], "%s %s", res.Proto, b)
	hsts := res.Header.Get("Strict-Transport-Security")
	assert.True(t, strings.HasPrefix(hsts, "max-age="), "Strict-Transport-Security = %q over HTTPS", hsts)
	plain, _ := h.do("GET", "/healthz", "", nil, nil)
	hsts = plain.Header.Get("Strict-Transport-Security")
	assert.Empty(t, hsts, "Strict-Transport-Security %q on plain HTTP without an https public URL", hsts)
}
