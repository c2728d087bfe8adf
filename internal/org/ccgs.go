package org

import (
	"context"
	"fmt"

	"github.com/jackc/pgx/v5"

	"ccgtracker/internal/apperr"
	"ccgtracker/internal/audit"
	"ccgtracker/internal/paging"
	"ccgtracker/internal/postgres"
)

// Region is an NHS England commissioning region.
type Region struct {
	Code          string
	Name          string
	DueDay        int
	CCGCount      int
	PracticeCount int
}

// CCG is a Clinical Commissioning Group with its counts.
type CCG struct {
	Code           string
	Name           string
	RegionCode     string
	RegionName     string
	STPCode        string
	STPName        string
	DueDayOverride *int
	RegionDueDay   int
	Active         bool
	PracticeCount  int
	Patients       int64
}

// DueDay is the day of month M+1 the CCG's return for month M is due: the
// admin's override when set, else the region's default (DOMAIN.md §6).
func (c CCG) DueDay() int {
	if c.DueDayOverride != nil {
		return *c.DueDayOverride
	}
	return c.RegionDueDay
}

// ListRegions returns every region with how many CCGs and open practices
// fall in the scope. The practices are counted once per change, by the
// triggers that keep ccg_practice_counts (migration 000008), not here: this
// runs on nearly every page and reads only 7 regions and 106 CCGs.
func ListRegions(ctx context.Context, db postgres.Querier, scope Scope) ([]Region, error) {
	all, ccg := scope.SQLArgs()
	const q = `
		SELECT r.code, r.name, r.due_day,
		       count(c.code),
		       coalesce(sum(n.practices), 0)
		FROM regions r
		LEFT JOIN ccgs c ON c.region_code = r.code AND ($1 OR c.code = $2)
		LEFT JOIN ccg_practice_counts n ON n.ccg_code = c.code
		GROUP BY r.code
		ORDER BY r.name`
	rows, err := db.Query(ctx, q, all, ccg)
	if err != nil {
		return nil, fmt.Errorf("list regions: %w", err)
	}
	return pgx.CollectRows(rows, func(row pgx.CollectableRow) (Region, error) {
		var r Region
		err := row.Scan(&r.Code, &r.Name, &r.DueDay, &r.CCGCount, &r.PracticeCount)
		return r, err
	})
}

// CCGFilter narrows the CCG list.
type CCGFilter struct {
	Query  string // part of the name or code, any case
	Region string // a region code, or empty for all
}

const ccgColumns = `
	c.code, c.name, c.region_code, r.name, c.stp_code, c.stp_name, c.due_day, r.due_day, c.active,
	coalesce(n.practices, 0), coalesce(n.patients, 0)`

// ccgFrom joins each CCG to its region and its counts of open practices,
// kept by triggers (see ListRegions).
const ccgFrom = `
	FROM ccgs c JOIN regions r ON r.code = c.region_code
	LEFT JOIN ccg_practice_counts n ON n.ccg_code = c.code`

func scanCCG(row pgx.CollectableRow) (CCG, error) {
	var c CCG
	err := row.Scan(&c.Code, &c.Name, &c.RegionCode, &c.RegionName, &c.STPCode, &c.STPName,
		&c.DueDayOverride, &c.RegionDueDay, &c.Active, &c.PracticeCount, &c.Patients)
	return c, err
}

// SearchCCGs returns one page of the CCGs in scope that match the filter,
// ordered by name.
func SearchCCGs(ctx context.Context, db postgres.Querier, scope Scope, f CCGFilter, page paging.Page) (paging.Result[CCG], error) {
	all, ccg := scope.SQLArgs()
	res, err := postgres.Paged(ctx, db, page, ccgColumns, ccgFrom+`
		WHERE ($1 OR c.code = $2)
		  AND ($3 = '' OR c.name ILIKE '%' || $3 || '%' OR c.code = upper($3))
		  AND ($4 = '' OR c.region_code = $4)`, `c.name`, scanCCG,
		all, ccg, f.Query, f.Region)
	if err != nil {
		return res, fmt.Errorf("search CCGs: %w", err)
	}
	return res, nil
}

// CCGNames lists every CCG in scope by name, for choosing one: all of
// them, so no count and no page.
func CCGNames(ctx context.Context, db postgres.Querier, scope Scope) ([]CCGName, error) {
	all, ccg := scope.SQLArgs()
	rows, err := db.Query(ctx, `SELECT code, name FROM ccgs WHERE ($1 OR code = $2) ORDER BY name`, all, ccg)
	if err != nil {
		return nil, fmt.Errorf("list CCG names: %w", err)
	}
	names, err := pgx.CollectRows(rows, pgx.RowToStructByPos[CCGName])
	if err != nil {
		return nil, fmt.Errorf("list CCG names: %w", err)
	}
	return names, nil
}

// CCGName is a CCG as a choice in a form.
type CCGName struct {
	Code, Name string
}

// GetCCG returns one CCG, or NotFound when it does not exist or is outside
// the scope: a buyer cannot tell another CCG's page from a missing one.
func GetCCG(ctx context.Context, db postgres.Querier, scope Scope, code string) (CCG, error) {
	all, ccg := scope.SQLArgs()
	rows, err := db.Query(ctx, `SELECT `+ccgColumns+ccgFrom+`
		WHERE c.code = $3 AND ($1 OR c.code = $2)`, all, ccg, code)
	if err != nil {
		return CCG{}, fmt.Errorf("get CCG %s: %w", code, err)
	}
	c, err := pgx.CollectExactlyOneRow(rows, scanCCG)
	if err != nil {
		return CCG{}, postgres.NotFound(err, "No CCG has the code %s.", code)
	}
	return c, nil
}

// FieldDueDay is the CCG's own due day, as SetDueDay's refusal names it.
const FieldDueDay = "due-day"

// SetDueDay sets the CCG's own due day for returns, or with nil returns
// it to its region's day. It applies to returns issued after the change.
// A CCG outside the actor's scope is as one that does not exist.
func (s *Store) SetDueDay(ctx context.Context, a Actor, code string, day *int) error {
	now := s.now()
	if day != nil && (*day < 1 || *day > 28) {
		return apperr.Invalidf(FieldDueDay, "Due day must be a day of the month from 1 to 28, or empty for the region's day")
	}
	if !a.Scope.Allows(code) {
		return apperr.New(apperr.NotFound, "No CCG has the code %s.", code)
	}
	return postgres.Tx(ctx, s.pool, func(tx pgx.Tx) error {
		var before *int
		err := tx.QueryRow(ctx, `SELECT due_day FROM ccgs WHERE code = $1 FOR UPDATE`, code).Scan(&before)
		if err != nil {
			return postgres.NotFound(err, "No CCG has the code %s.", code)
		}
		if _, err := tx.Exec(ctx, `UPDATE ccgs SET due_day = $2 WHERE code = $1`, code, day); err != nil {
			return fmt.Errorf("set due day of %s: %w", code, err)
		}
		return audit.Record(ctx, tx, audit.Event{
			At:         now,
			By:         a.ID,
			Action:     "ccg.due_day",
			EntityType: "ccg",
			EntityID:   code,
			Before:     map[string]any{"due_day": before},
			After:      map[string]any{"due_day": day},
		})
	})
}
