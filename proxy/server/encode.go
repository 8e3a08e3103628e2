package server

import (
	"encoding/json"
	"strconv"

	"github.com/posrefund/cloud/payroc"
)

// encodeRequest is json.Marshal(req), byte for byte. The usual submit (terminal, order and operator, all plain
// ASCII text) is written directly; anything else (customer details, options, text json.Marshal would escape)
// goes through json.Marshal. TestProxyEncodeRequestMatchesMarshal pins the field list, so a field added to
// payroc.RefundInstructionRequest or payroc.RefundOrder fails it rather than silently going missing here.
func encodeRequest(req *payroc.RefundInstructionRequest) ([]byte, error) {
	o := req.Order
	if req.Customer != nil || req.IPAddress != nil || req.CustomizationOptions != nil ||
		!plainText(req.ProcessingTerminalID) || !plainText(req.Operator) || !plainText(o.OrderID) ||
		!plainText(o.Description) || !plainText(o.Currency) {
		return json.Marshal(req)
	}
	b := make([]byte, 0, 128+len(req.ProcessingTerminalID)+len(o.OrderID)+len(o.Description)+len(req.Operator))
	b = append(b, `{"processingTerminalId":"`...)
	b = append(b, req.ProcessingTerminalID...)
	b = append(b, `","order":{"orderId":"`...)
	b = append(b, o.OrderID...)
	b = append(b, `","description":"`...)
	b = append(b, o.Description...)
	b = append(b, `","amount":`...)
	b = strconv.AppendInt(b, o.Amount, 10)
	b = append(b, `,"currency":"`...)
	b = append(b, o.Currency...)
	b = append(b, `"}`...)
	if req.Operator != "" {
		b = append(b, `,"operator":"`...)
		b = append(b, req.Operator...)
		b = append(b, '"')
	}
	return append(b, '}'), nil
}

// plainText reports whether json.Marshal writes s as it is between quotes: printable ASCII other than '"',
// '\\' and the HTML characters it escapes ('<', '>', '&').
func plainText(s string) bool {
	for i := 0; i < len(s); i++ {
		switch c := s[i]; {
		case c < 0x20 || c > 0x7e, c == '"', c == '\\', c == '<', c == '>', c == '&':
			return false
		}
	}
	return true
}
