package connection

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/posrefund/cloud/payroc"
)

// answer is one outcome of a call: a status, or no answer (err), or a caller that gave up (canceled).
type answer struct {
	status   int
	err      error
	canceled bool
}

type report struct {
	State State
	Since time.Time
}

// watchStart is the fake clock's reading before the first call.
var watchStart = time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)

// watch runs the calls through a Watcher over a Doer that answers them in order, and returns its reports.
// Each call takes one second of the fake clock: call n (from 1) starts at watchStart+(n-1)s and ends at
// watchStart+ns, and reading the clock does not move it.
func watch(t *testing.T, answers []answer) []report {
	t.Helper()
	i := 0
	clock := watchStart
	next := payroc.DoerFunc(func(ctx context.Context, _ *payroc.Request) (*payroc.Response, error) {
		a := answers[i]
		i++
		clock = clock.Add(time.Second)
		if a.err != nil {
			return nil, a.err
		}
		return &payroc.Response{StatusCode: a.status}, nil
	})
	var got []report
	w := &Watcher{Next: next, Now: func() time.Time { return clock },
		OnChange: func(s State, since time.Time) { got = append(got, report{s, since}) }}
	for range answers {
		ctx, cancel := context.WithCancel(context.Background())
		if answers[i].canceled {
			cancel()
		}
		_, _ = w.Do(ctx, &payroc.Request{Method: "GET", URL: "https://pos.example/v1/x"})
		cancel()
	}
	return got
}

func states(rs []report) []State {
	out := []State{}
	for _, r := range rs {
		out = append(out, r.State)
	}
	return out
}

func TestWatcherReportsEachChangeOnce(t *testing.T) {
	offline := errors.New("fetch: TypeError: Failed to fetch")
	cases := []struct {
		name    string
		answers []answer
		want    []State
	}{
		{"answers that get through report nothing", []answer{{status: 200}, {status: 404}, {status: 500}, {status: 409}}, []State{}},
		{"no answer is retrying", []answer{{err: offline}}, []State{Retrying}},
		{"502 is retrying", []answer{{status: 502}}, []State{Retrying}},
		{"503 is retrying", []answer{{status: 503}}, []State{Retrying}},
		{"504 is retrying", []answer{{status: 504}}, []State{Retrying}},
		{"failures in a row report once", []answer{{err: offline}, {status: 503}, {err: offline}}, []State{Retrying}},
		{"an answer after failures is online", []answer{{err: offline}, {status: 200}, {status: 200}}, []State{Retrying, Online}},
		{"a 4xx after failures is online", []answer{{status: 504}, {status: 401}}, []State{Retrying, Online}},
		{"a call the caller gave up on says nothing", []answer{{err: context.Canceled, canceled: true}}, []State{}},
		{"nor while retrying", []answer{{err: offline}, {err: context.Canceled, canceled: true}, {status: 200}}, []State{Retrying, Online}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			assert.Equal(t, tc.want, states(watch(t, tc.answers)))
		})
	}
}

func TestWatcherSinceIsWhenTheChangingCallEnded(t *testing.T) {
	got := watch(t, []answer{{status: 200}, {status: 503}, {status: 503}, {status: 200}})
	require.Len(t, got, 2, "reports %+v", got)
	// The second call (503) ends at start+2s, the fourth (200) at start+4s; they started a second earlier.
	assert.Equal(t, []report{{Retrying, watchStart.Add(2 * time.Second)}, {Online, watchStart.Add(4 * time.Second)}}, got)
}

func TestWatcherPassesTheAnswerThrough(t *testing.T) {
	want := &payroc.Response{StatusCode: 503, Body: []byte(`{"type":"x"}`)}
	wantErr := errors.New("fetch: offline")
	w := &Watcher{Next: payroc.DoerFunc(func(context.Context, *payroc.Request) (*payroc.Response, error) { return want, wantErr })}
	res, err := w.Do(context.Background(), &payroc.Request{})
	assert.Same(t, want, res)
	assert.Same(t, wantErr, err)
}
