package redis

import (
	"encoding/binary"
	"errors"
	"fmt"
	"strconv"
	"time"

	"github.com/posrefund/cloud/proxy/state"
)

// The scripts answer with an instruction as it is stored, a MessagePack array packed by Redis's cmsgpack
// (lane, serial, key, token id, amount, currency, order id, submitted, final audited), rather than unpacking it
// into a reply of its fields: turning a Lua table into a reply costs Redis about 600 instructions per element,
// and go-redis an allocation or two per element on the proxy's side. The proxy reads the array here.

// errRecord is a stored instruction the proxy cannot read (another version's format): the call fails closed.
var errRecord = errors.New("unreadable instruction record")

// record reads a script's answer {audit flag, packed record} about instruction id; found is false for an
// answer without one.
func record(id string, answer any) (rec state.Instruction, audit, found bool, err error) {
	v, _ := answer.([]any)
	packed, _ := elem(v, 1).(string)
	if packed == "" {
		return state.Instruction{}, false, false, nil
	}
	f, err := unpackStrings(packed, 8)
	if err != nil {
		return state.Instruction{}, false, false, fmt.Errorf("%w: %w", state.ErrUnavailable, err)
	}
	amount, _ := strconv.ParseInt(f[4], 10, 64)
	at, _ := strconv.ParseInt(f[7], 10, 64)
	auditMark, _ := elem(v, 0).(int64)
	return state.Instruction{ID: id, Lane: f[0], Serial: f[1], Key: f[2], TokenID: f[3], Amount: amount,
		Currency: f[5], OrderID: f[6], SubmittedAt: time.UnixMilli(at)}, auditMark == 1, true, nil
}

// unpackStrings reads the first n elements of a MessagePack array, each a string.
func unpackStrings(b string, n int) ([]string, error) {
	size, b, err := arrayHeader(b)
	if err != nil || size < n {
		return nil, errRecord
	}
	out := make([]string, n)
	for i := range out {
		if out[i], b, err = unpackString(b); err != nil {
			return nil, err
		}
	}
	return out, nil
}

// arrayHeader reads a MessagePack array's length (fixarray, array 16, array 32).
func arrayHeader(b string) (int, string, error) {
	switch {
	case len(b) >= 1 && b[0]&0xf0 == 0x90:
		return int(b[0] & 0x0f), b[1:], nil
	case len(b) >= 3 && b[0] == 0xdc:
		return int(binary.BigEndian.Uint16([]byte(b[1:3]))), b[3:], nil
	case len(b) >= 5 && b[0] == 0xdd:
		return int(binary.BigEndian.Uint32([]byte(b[1:5]))), b[5:], nil
	}
	return 0, b, errRecord
}

// unpackString reads one MessagePack string (fixstr, str 8, str 16, str 32) and returns the rest.
func unpackString(b string) (string, string, error) {
	if len(b) == 0 {
		return "", b, errRecord
	}
	var n, head int
	switch c := b[0]; {
	case c&0xe0 == 0xa0:
		n, head = int(c&0x1f), 1
	case c == 0xd9 && len(b) >= 2:
		n, head = int(b[1]), 2
	case c == 0xda && len(b) >= 3:
		n, head = int(binary.BigEndian.Uint16([]byte(b[1:3]))), 3
	case c == 0xdb && len(b) >= 5:
		n, head = int(binary.BigEndian.Uint32([]byte(b[1:5]))), 5
	default:
		return "", b, errRecord
	}
	if len(b)-head < n {
		return "", b, errRecord
	}
	return b[head : head+n], b[head+n:], nil
}
