package org_test

import (
	"context"
	"fmt"
	"testing"
	"time"

	"ccgtracker/internal/apperr"
	"ccgtracker/internal/org"
	"ccgtracker/internal/paging"
	"ccgtracker/internal/postgres/pgtest"
	"ccgtracker/internal/testkit"
)

func TestScopeDeniesByDefault(t *testing.T) {
	t.Parallel()
	var zero org.Scope
	if zero.Allows("16C") || zero.Allows("") {
		t.Error("the zero scope must see no CCG")
	}
	if !org.OnlyCCG("16C").Allows("16C") || org.OnlyCCG("16C").Allows("03Q") || org.OnlyCCG("").Allows("") {
		t.Error("OnlyCCG must see its CCG alone")
	}
	if !org.AllCCGs().Allows("03Q") {
		t.Error("AllCCGs must see every CCG")
	}
}

func TestCCGQueriesHonourTheScope(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	pool := pgtest.New(t)
	first := paging.Page{Number: 1, Size: 200}

	all, err := org.SearchCCGs(ctx, pool, org.AllCCGs(), org.CCGFilter{}, first)
	if err != nil || all.Total != 106 || len(all.Rows) != 106 {
		t.Fatalf("all CCGs: %d rows of %d (%v)", len(all.Rows), all.Total, err)
	}
	own, err := org.SearchCCGs(ctx, pool, org.OnlyCCG("16C"), org.CCGFilter{}, first)
	if err != nil || own.Total != 1 || own.Rows[0].Code != "16C" {
		t.Fatalf("buyer's CCGs: %+v (%v)", own.Rows, err)
	}
	none, err := org.SearchCCGs(ctx, pool, org.Scope{}, org.CCGFilter{}, first)
	if err != nil || none.Total != 0 {
		t.Fatalf("zero scope sees %d CCGs (%v)", none.Total, err)
	}

	tees, err := org.SearchCCGs(ctx, pool, org.AllCCGs(), org.CCGFilter{Query: "tees"}, first)
	if err != nil || tees.Total != 1 || tees.Rows[0].Name != "NHS Tees Valley CCG" || tees.Rows[0].PracticeCount != 81 {
		t.Fatalf("search 'tees': %+v (%v)", tees.Rows, err)
	}
	byCode, err := org.SearchCCGs(ctx, pool, org.AllCCGs(), org.CCGFilter{Query: "16c"}, first)
	if err != nil || byCode.Total != 1 {
		t.Fatalf("search by code: %d (%v)", byCode.Total, err)
	}
	london, err := org.SearchCCGs(ctx, pool, org.AllCCGs(), org.CCGFilter{Region: "Y56"}, first)
	if err != nil || london.Total == 0 {
		t.Fatalf("London: %d (%v)", london.Total, err)
	}
	for _, c := range london.Rows {
		if c.RegionName != "London" || c.DueDay() != 8 {
			t.Errorf("London filter returned %s in %s due %d", c.Code, c.RegionName, c.DueDay())
		}
	}

	if _, err := org.GetCCG(ctx, pool, org.OnlyCCG("16C"), "03Q"); !apperr.Is(err, apperr.NotFound) {
		t.Errorf("buyer of 16C reading 03Q: %v, want NotFound", err)
	}
	if _, err := org.GetPractice(ctx, pool, org.OnlyCCG("03Q"), "A81001"); !apperr.Is(err, apperr.NotFound) {
		t.Errorf("buyer of 03Q reading a 16C practice: %v, want NotFound", err)
	}
	p, err := org.GetPractice(ctx, pool, org.OnlyCCG("16C"), "A81001")
	if err != nil || p.Name != "THE DENSHAM SURGERY" || p.ListSize == nil || p.CCGName != "NHS Tees Valley CCG" {
		t.Fatalf("A81001: %+v (%v)", p, err)
	}
	if res, _ := org.ListPractices(ctx, pool, org.OnlyCCG("03Q"), "16C", "", first); res.Total != 0 {
		t.Errorf("buyer of 03Q listed %d practices of 16C", res.Total)
	}
}

func TestCCGOverrideOfDueDay(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	pool := pgtest.New(t)
	if _, err := pool.Exec(ctx, `UPDATE ccgs SET due_day = 3 WHERE code = '16C'`); err != nil {
		t.Fatal(err)
	}
	c, err := org.GetCCG(ctx, pool, org.AllCCGs(), "16C")
	if err != nil || c.DueDay() != 3 || c.RegionDueDay != 20 {
		t.Errorf("override: due day %d, region %d (%v)", c.DueDay(), c.RegionDueDay, err)
	}
}

func TestPracticePaging(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	pool := pgtest.New(t)
	page1, err := org.ListPractices(ctx, pool, org.AllCCGs(), "16C", "", paging.Page{Number: 1, Size: 25})
	if err != nil {
		t.Fatal(err)
	}
	page4, err := org.ListPractices(ctx, pool, org.AllCCGs(), "16C", "", paging.Page{Number: 4, Size: 25})
	if err != nil {
		t.Fatal(err)
	}
	if page1.Total != 81 || len(page1.Rows) != 25 || page1.Pages() != 4 || len(page4.Rows) != 6 || page4.HasNext() || !page4.HasPrev() {
		t.Errorf("paging: total %d, page1 %d rows, %d pages, page4 %d rows", page1.Total, len(page1.Rows), page1.Pages(), len(page4.Rows))
	}
	if page4.First() != 76 || page4.Last() != 81 {
		t.Errorf("page 4 shows %d to %d, want 76 to 81", page4.First(), page4.Last())
	}
	found, err := org.ListPractices(ctx, pool, org.AllCCGs(), "16C", "densham", paging.Page{Number: 1, Size: 25})
	if err != nil || found.Total != 1 || found.Rows[0].Code != "A81001" {
		t.Errorf("search densham: %+v (%v)", found.Rows, err)
	}
}

func TestCatalogueItemWithPrices(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	pool := pgtest.New(t)
	d, err := org.GetItem(ctx, pool, "10000-001")
	if err != nil {
		t.Fatal(err)
	}
	if d.Name != "Emis Web GP" || d.SupplierName != "EMIS Health" || len(d.Prices) != 1 {
		t.Fatalf("10000-001: %+v", d)
	}
	if p := d.Prices[0]; p.Price.String() != "£1.26" || p.Per() != "per patient per year" {
		t.Errorf("price %s %s", p.Price, p.Per())
	}
	if _, err := org.GetItem(ctx, pool, "99999-999"); !apperr.Is(err, apperr.NotFound) {
		t.Errorf("missing item: %v", err)
	}
	sol, err := org.SearchItems(ctx, pool, org.ItemFilter{Kind: org.KindAdditional}, paging.Page{Number: 1, Size: 200})
	if err != nil || sol.Total == 0 {
		t.Fatalf("additional services: %d (%v)", sol.Total, err)
	}
	for _, it := range sol.Rows {
		if it.ParentID == "" || it.Kind != org.KindAdditional {
			t.Errorf("additional service %s has no parent", it.ID)
		}
	}
}

func TestSetDueDay(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	pool := pgtest.New(t)
	now := time.Date(2026, 11, 24, 9, 0, 0, 0, time.UTC)
	ccgs := org.NewStore(pool, testkit.NewClock(now).Now)
	for _, bad := range []int{0, 29, -1} {
		t.Run(fmt.Sprintf("day %d", bad), func(t *testing.T) {
			if err := ccgs.SetDueDay(ctx, org.System(), "16C", &bad); !apperr.Is(err, apperr.Invalid) {
				t.Errorf("day %d: %v", bad, err)
			}
		})
	}
	if err := ccgs.SetDueDay(ctx, org.System(), "ZZZ", nil); !apperr.Is(err, apperr.NotFound) {
		t.Errorf("unknown CCG: %v", err)
	}
	day := 3
	if err := ccgs.SetDueDay(ctx, org.System(), "16C", &day); err != nil {
		t.Fatal(err)
	}
	c, _ := org.GetCCG(ctx, pool, org.AllCCGs(), "16C")
	if c.DueDay() != 3 {
		t.Errorf("due day %d", c.DueDay())
	}
	if err := ccgs.SetDueDay(ctx, org.System(), "16C", nil); err != nil {
		t.Fatal(err)
	}
	c, _ = org.GetCCG(ctx, pool, org.AllCCGs(), "16C")
	var audits int
	if err := pool.QueryRow(ctx, `SELECT count(*) FROM audit_log WHERE action = 'ccg.due_day'`).Scan(&audits); err != nil {
		t.Fatal(err)
	}
	if c.DueDay() != 20 || c.DueDayOverride != nil || audits != 2 {
		t.Errorf("back to the region's day: %d, override %v, %d audit entries", c.DueDay(), c.DueDayOverride, audits)
	}
}

// The lists that forms offer whole: every row in scope, nothing outside it.
func TestWholeListsForForms(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	pool := pgtest.New(t)

	t.Run("CCG names follow the scope", func(t *testing.T) {
		all, err := org.CCGNames(ctx, pool, org.AllCCGs())
		if err != nil || len(all) != 106 {
			t.Fatalf("all CCG names: %d (%v)", len(all), err)
		}
		for i := 1; i < len(all); i++ {
			if all[i-1].Name > all[i].Name {
				t.Fatalf("not by name: %q before %q", all[i-1].Name, all[i].Name)
			}
		}
		own, err := org.CCGNames(ctx, pool, org.OnlyCCG("16C"))
		if err != nil || len(own) != 1 || own[0] != (org.CCGName{Code: "16C", Name: "NHS Tees Valley CCG"}) {
			t.Fatalf("a buyer's CCG names: %+v (%v)", own, err)
		}
		if none, err := org.CCGNames(ctx, pool, org.Scope{}); err != nil || len(none) != 0 {
			t.Fatalf("the zero scope names %d CCGs (%v)", len(none), err)
		}
	})
	t.Run("practices of a CCG, all of them, only in scope", func(t *testing.T) {
		ps, err := org.PracticesOf(ctx, pool, org.OnlyCCG("16C"), "16C")
		if err != nil || len(ps) != 81 {
			t.Fatalf("Tees Valley's practices: %d (%v)", len(ps), err)
		}
		for _, p := range ps {
			if p.CCGCode != "16C" {
				t.Fatalf("%s is in %s", p.Code, p.CCGCode)
			}
		}
		if other, err := org.PracticesOf(ctx, pool, org.OnlyCCG("16C"), "03Q"); err != nil || len(other) != 0 {
			t.Fatalf("a buyer of 16C sees %d practices of 03Q (%v)", len(other), err)
		}
	})
	t.Run("items of a supplier", func(t *testing.T) {
		items, err := org.ItemsOfSupplier(ctx, pool, "10000")
		if err != nil || len(items) == 0 {
			t.Fatalf("EMIS's items: %d (%v)", len(items), err)
		}
		for _, it := range items {
			if it.SupplierID != "10000" {
				t.Fatalf("%s is %s's", it.ID, it.SupplierID)
			}
		}
	})
}
