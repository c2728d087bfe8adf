package tracker_test

import (
	"testing"

	"ccgtracker/internal/apperr"
	"ccgtracker/internal/tracker"
)

func TestAddLinesAllOrNone(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	good := tracker.LineInput{Kind: tracker.Activation, Practice: "A81001", Instance: f.planned[0], Date: day(2026, 11, 3)}
	bad := tracker.LineInput{Kind: tracker.Cessation, Practice: "A81002", Instance: f.planned[1], Date: day(2026, 11, 4)} // planned: cannot cease
	twin := good                                                                                                          // the same activation twice contradicts itself

	r := f.ret()
	probs, err := f.store.AddLines(ctx, f.actor, "16C", november, r.Version, []tracker.LineInput{good, bad, twin})
	if !apperr.Is(err, apperr.Invalid) {
		t.Fatalf("err = %v, want Invalid", err)
	}
	if probs[1][tracker.FieldInstance] == "" || probs[2] == nil || probs[0] == nil {
		t.Errorf("problems %v: want the cessation's instance and both twins", probs)
	}
	if r2 := f.ret(); len(r2.Lines) != 0 || r2.Version != r.Version {
		t.Errorf("a refused batch left %d lines, version %d → %d", len(r2.Lines), r.Version, r2.Version)
	}

	// The dry run finds the same, saving nothing.
	dry, err := tracker.CheckLines(ctx, f.pool, f.scope, "16C", november, []tracker.LineInput{good, bad})
	must(t, err)
	if len(dry) != 1 || dry[1][tracker.FieldInstance] == "" {
		t.Errorf("CheckLines: %v", dry)
	}

	// A good batch goes in at once, under one version.
	second := tracker.LineInput{Kind: tracker.Activation, Practice: "A81002", Instance: f.planned[1], Date: day(2026, 11, 4)}
	probs, err = f.store.AddLines(ctx, f.actor, "16C", november, r.Version, []tracker.LineInput{good, second})
	if err != nil || probs != nil {
		t.Fatalf("good batch: %v %v", probs, err)
	}
	if r2 := f.ret(); len(r2.Lines) != 2 || r2.Version != r.Version+1 || r2.Status != tracker.Draft {
		t.Errorf("after a good batch: %d lines, version %d, %s", len(r2.Lines), r2.Version, r2.Status)
	}

	// A line already on the return counts against the new ones.
	_, err = f.store.AddLines(ctx, f.actor, "16C", november, r.Version+1, []tracker.LineInput{good})
	if !apperr.Is(err, apperr.Invalid) {
		t.Errorf("adding a line twice: %v", err)
	}
	// A stale version is refused before anything is checked.
	if _, err := f.store.AddLines(ctx, f.actor, "16C", november, r.Version, []tracker.LineInput{second}); !apperr.Is(err, apperr.Conflict) {
		t.Errorf("stale version: %v", err)
	}
}
