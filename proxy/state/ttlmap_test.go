package state

import (
	"testing"
	"time"
)

func TestTTLMapIsBoundedAndExpires(t *testing.T) {
	now := time.Now()
	m := newTTLMap[string, int](time.Minute, 3)
	for i, k := range []string{"a", "b", "c", "d"} {
		m.set(k, i, now)
	}
	if _, ok := m.get("a", now); ok || m.len() != 3 {
		t.Fatalf("oldest not evicted: len %d", m.len())
	}
	if v, ok := m.get("d", now); !ok || v != 3 {
		t.Fatal("newest missing")
	}
	m.set("b", 10, now.Add(30*time.Second)) // renewed
	if _, ok := m.get("c", now.Add(61*time.Second)); ok {
		t.Fatal("expired entry returned")
	}
	if v, ok := m.get("b", now.Add(61*time.Second)); !ok || v != 10 {
		t.Fatal("renewed entry expired early")
	}
	m.set("e", 1, now.Add(2*time.Minute))
	if m.len() != 1 {
		t.Fatalf("expired entries kept: len %d", m.len())
	}
}
