package server

import (
	json "github.com/go-json-experiment/json"

	"github.com/posrefund/cloud/payroc"
)

// parseInstruction reads an instruction answer from upstream; nil when it is none. It reads with json v2,
// which refuses an answer with a repeated member name, invalid UTF-8 or a name in another case: an answer
// two readers could read differently teaches the proxy nothing (its device guard then holds until the same
// key is replayed or the guard times out), and writeUpstream leaves such a body unrewritten.
func parseInstruction(body []byte) *payroc.RefundInstruction {
	var v payroc.RefundInstruction
	if json.Unmarshal(body, &v) != nil || v.RefundInstructionID == "" || v.Status == "" {
		return nil
	}
	return &v
}
