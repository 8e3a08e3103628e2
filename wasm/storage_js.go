package main

import (
	"errors"
	"syscall/js"

	"github.com/posrefund/cloud/wasm/pending"
)

// webStorage is pending.Storage over the browser's localStorage (or any object with its methods). Each call turns a
// thrown exception (quota exceeded, storage disabled) into an error.
type webStorage struct{ ls js.Value }

// browserStorage returns localStorage, or memory (with a console warning) where the page may not use it:
// then a refund is still submitted once per page, but a reload forgets it.
func browserStorage() pending.Storage {
	var ls js.Value
	err := catch(func() { ls = js.Global().Get("localStorage") })
	if err == nil && ls.Type() == js.TypeObject {
		const probe = pending.Prefix + "probe"
		err = catch(func() { ls.Call("setItem", probe, "1"); ls.Call("removeItem", probe) })
		if err == nil {
			return webStorage{ls}
		}
	}
	consoleError("payroc: localStorage is unavailable; unfinished refunds will not survive a reload")
	return &pending.MemoryStorage{}
}

func (w webStorage) Get(key string) (v string, ok bool, err error) {
	err = catch(func() {
		r := w.ls.Call("getItem", key)
		if r.Type() == js.TypeString {
			v, ok = r.String(), true
		}
	})
	return v, ok, err
}

func (w webStorage) Set(key, value string) error {
	return catch(func() { w.ls.Call("setItem", key, value) })
}

func (w webStorage) Remove(key string) error {
	return catch(func() { w.ls.Call("removeItem", key) })
}

func (w webStorage) Keys() (keys []string, err error) {
	err = catch(func() {
		n := w.ls.Get("length").Int()
		for i := 0; i < n; i++ {
			if k := w.ls.Call("key", i); k.Type() == js.TypeString {
				keys = append(keys, k.String())
			}
		}
	})
	return keys, err
}

// catch runs f and returns what it threw (a JavaScript exception surfaces in Go as a panic) as an error.
func catch(f func()) (err error) {
	defer func() {
		if r := recover(); r != nil {
			switch v := r.(type) {
			case error:
				err = v
			case string:
				err = errors.New(v)
			default:
				err = errors.New("storage failure")
			}
		}
	}()
	f()
	return nil
}
