package sim_test

import (
	"context"
	"encoding/hex"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/posrefund/cloud/payroc"
	"github.com/posrefund/cloud/payroc/sim"
)

// A card read from its chip (contactless here) carries the EMV application label (tag 50, hex of its text)
// and the AID (tag 4F), which a receipt prints; a keyed card carries no EMV tags.
func TestRefundCarriesEMVApplicationOfChipReads(t *testing.T) {
	s := sim.New(sim.Config{Delay: 10 * time.Millisecond, Hold: 200 * time.Millisecond})
	t.Cleanup(s.Close)
	srv := httptest.NewServer(s)
	t.Cleanup(srv.Close)
	client := &payroc.Client{
		BaseURL: srv.URL + "/v1",
		Tokens:  &payroc.TokenCache{Mint: (&payroc.Identity{BaseURL: srv.URL, APIKey: sim.DefaultAPIKey}).Mint},
	}
	run := func(entry string) payroc.Card {
		req := &payroc.RefundInstructionRequest{
			ProcessingTerminalID: "1234001",
			Order:                payroc.RefundOrder{OrderID: "ORDER-1001", Description: "Refund for ORDER-1001", Amount: 4999, Currency: "USD"},
		}
		if entry != "" {
			req.CustomizationOptions = &payroc.CustomizationOptions{EntryMethod: entry}
		}
		res, err := client.RunRefund(context.Background(), refund(t, "1850010868", req, ""), payroc.RunOptions{})
		require.NoError(t, err)
		require.NotNil(t, res.Refund)
		return res.Refund.Card
	}

	card := run("")
	require.Equal(t, "contactlessIcc", card.EntryMethod)
	tags := map[string]string{}
	for _, tag := range card.EMVTags {
		tags[tag.Hex] = tag.Value
	}
	assert.Equal(t, "A0000000031010", tags["4F"], "the AID (tag 4F) of a contactless read")
	label, err := hex.DecodeString(tags["50"])
	require.NoError(t, err, "tag 50 is the hex of the label's bytes")
	assert.Equal(t, "VISA CREDIT", string(label), "the application label (tag 50)")

	keyed := run("manualEntry")
	assert.Equal(t, "keyed", keyed.EntryMethod)
	assert.Empty(t, keyed.EMVTags, "a keyed card has no EMV application")
}
