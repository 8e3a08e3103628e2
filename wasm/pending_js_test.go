package main

import (
	"syscall/js"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/posrefund/cloud/payroc"
	"github.com/posrefund/cloud/wasm/pending"
)

// mustRefund is validRequest checked for sending under key.
func mustRefund(t *testing.T, key string) payroc.DeviceRefund {
	t.Helper()
	r, err := pending.ParseRequest(validRequest, key)
	require.NoError(t, err)
	return r
}

// shimStorage is a localStorage look-alike written in JavaScript; failSet makes setItem throw as a full
// quota does.
func shimStorage(failSet bool) js.Value {
	return jsFunc("failSet", `
		const m = new Map();
		return {
			getItem: k => m.has(k) ? m.get(k) : null,
			setItem: (k, v) => { if (failSet) throw new DOMException("quota", "QuotaExceededError"); m.set(k, String(v)); },
			removeItem: k => { m.delete(k); },
			key: i => Array.from(m.keys())[i] ?? null,
			get length() { return m.size; },
		};`).Invoke(failSet)
}

func TestWebStorageOverALocalStorageObject(t *testing.T) {
	w := webStorage{shimStorage(false)}
	require.NoError(t, w.Set(pending.Prefix+"a", "1"))
	v, ok, err := w.Get(pending.Prefix + "a")
	require.NoError(t, err)
	assert.True(t, ok)
	assert.Equal(t, "1", v)
	_, ok, err = w.Get("missing")
	require.NoError(t, err)
	assert.False(t, ok, "a missing key was found")
	keys, err := w.Keys()
	require.NoError(t, err)
	assert.Equal(t, []string{pending.Prefix + "a"}, keys)
	require.NoError(t, w.Remove(pending.Prefix+"a"))
	keys, err = w.Keys()
	require.NoError(t, err)
	assert.Empty(t, keys, "after Remove")
	assert.Error(t, (webStorage{shimStorage(true)}).Set("k", "v"), "a throwing setItem must be an error")
}

// A refund that cannot be recorded first is not sent: storage-unavailable, local, not retryable.
func TestRefundIsNotSentWhenItCannotBeRecorded(t *testing.T) {
	f := newFakePayroc(payroc.StatusCompleted)
	api, _ := newTestAPI(t, f, config{Storage: webStorage{shimStorage(true)}})
	e := rejectedErr(t, api.Call("refund", validRequest))
	assert.Equal(t, payroc.CodeStorageUnavailable, e.Code)
	assert.Equal(t, 0, e.Status)
	assert.False(t, e.Retryable)
	assert.Empty(t, f.requests, "requests were sent although the record could not be written")
}
