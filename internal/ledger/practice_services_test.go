package ledger_test

import (
	"context"
	"testing"

	"ccgtracker/internal/ledger"
	"ccgtracker/internal/org"
	"ccgtracker/internal/paging"
	"ccgtracker/internal/postgres/pgtest"
)

func TestPracticeServices(t *testing.T) {
	t.Parallel()
	pool := pgtest.New(t)
	ctx := context.Background()
	listScene(t, pool)

	refs := func(list []ledger.Instance) []string {
		var out []string
		for _, i := range list {
			out = append(out, i.Ref()+" "+string(i.State))
		}
		return out
	}
	t.Run("every service of the practice, in the ledger's order", func(t *testing.T) {
		got, err := ledger.PracticeServices(ctx, pool, org.OnlyCCG("16C"), "16C", "a81001")
		if err != nil {
			t.Fatal(err)
		}
		want, err := ledger.List(ctx, pool, org.AllCCGs(), "16C", ledger.Filter{Practice: practice16C}, paging.Page{Number: 1, Size: 25})
		if err != nil {
			t.Fatal(err)
		}
		if len(got) != 2 || len(want.Rows) != 2 || refs(got)[0] != refs(want.Rows)[0] || refs(got)[1] != refs(want.Rows)[1] {
			t.Errorf("A81001's services %v, the ledger lists %v", refs(got), refs(want.Rows))
		}
	})
	t.Run("every state", func(t *testing.T) {
		got, err := ledger.PracticeServices(ctx, pool, org.AllCCGs(), "16C", "A81004")
		if err != nil {
			t.Fatal(err)
		}
		if len(got) != 1 || got[0].State != ledger.Active {
			t.Errorf("A81004's services %v, want its one active service", refs(got))
		}
	})
	t.Run("another CCG's practice or scope has none", func(t *testing.T) {
		for _, c := range []struct {
			scope         org.Scope
			ccg, practice string
		}{{org.OnlyCCG("03Q"), "16C", practice16C}, {org.AllCCGs(), "16C", practice03Q}} {
			if got, err := ledger.PracticeServices(ctx, pool, c.scope, c.ccg, c.practice); err != nil || len(got) != 0 {
				t.Errorf("%s of %s: %v (%v), want none", c.practice, c.ccg, refs(got), err)
			}
		}
	})
}
