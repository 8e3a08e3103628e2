package lane

import (
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// The confirmAbove claim survives signing and verifying; absent, it stays absent (the proxy's setting
// applies); 0 (confirm every refund) is kept, not dropped; a negative or too large one is refused.
func TestLaneConfirmAboveClaim(t *testing.T) {
	k := ring(t, keyA)
	issue := func(v *int64) (*Claims, error) {
		tok, _, err := k.Issue(Spec{Lane: "front-1", Devices: []string{"1850010868"}, MaxAmount: 5000, TTL: time.Hour, ConfirmAbove: v})
		if err != nil {
			return nil, err
		}
		return k.Verify(tok)
	}
	n := func(v int64) *int64 { return &v }

	c, err := issue(nil)
	require.NoError(t, err)
	assert.Nil(t, c.ConfirmAbove, "no claim asked, none carried")

	for _, v := range []int64{0, 2500} {
		c, err := issue(n(v))
		require.NoError(t, err)
		require.NotNil(t, c.ConfirmAbove, "confirmAbove %d lost in the token", v)
		assert.Equal(t, v, *c.ConfirmAbove)
	}
	for _, v := range []int64{-1, 1 << 60} {
		_, err := issue(n(v))
		assert.ErrorContains(t, err, "confirmAbove", "confirmAbove %d must be refused", v)
	}
}
