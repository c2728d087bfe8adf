package org

import (
	"context"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"

	"ccgtracker/internal/paging"
	"ccgtracker/internal/postgres"
)

// Practice is a GP practice: a service recipient.
type Practice struct {
	Code         string
	Name         string
	Postcode     string
	CCGCode      string
	CCGName      string
	PCNCode      string
	PCNName      string
	OpenDate     *time.Time
	CloseDate    *time.Time
	Status       string // A, C, D or P, as in ODS
	ListSize     *int
	ListSizeDate *time.Time
}

// StatusName is the ODS status in words.
func (p Practice) StatusName() string {
	switch p.Status {
	case "A":
		return "Active"
	case "C":
		return "Closed"
	case "D":
		return "Dormant"
	case "P":
		return "Proposed"
	}
	return p.Status
}

const practiceColumns = `
	p.code, p.name, p.postcode, p.ccg_code, c.name, p.pcn_code, p.pcn_name,
	p.open_date, p.close_date, p.status, p.list_size, p.list_size_date`

func scanPractice(row pgx.CollectableRow) (Practice, error) {
	var p Practice
	err := row.Scan(&p.Code, &p.Name, &p.Postcode, &p.CCGCode, &p.CCGName, &p.PCNCode, &p.PCNName,
		&p.OpenDate, &p.CloseDate, &p.Status, &p.ListSize, &p.ListSizeDate)
	return p, err
}

// ListPractices returns one page of a CCG's practices matching query (name,
// ODS code or postcode), ordered by name. The CCG must be in scope.
func ListPractices(ctx context.Context, db postgres.Querier, scope Scope, ccgCode, query string, page paging.Page) (paging.Result[Practice], error) {
	if !scope.Allows(ccgCode) {
		return paging.Result[Practice]{Page: page}, nil
	}
	res, err := postgres.Paged(ctx, db, page, practiceColumns, `
		FROM practices p JOIN ccgs c ON c.code = p.ccg_code
		WHERE p.ccg_code = $1
		  AND ($2 = '' OR p.name ILIKE '%' || $2 || '%' OR p.code = upper($2) OR p.postcode ILIKE $2 || '%')`,
		`p.name, p.code`, scanPractice, ccgCode, query)
	if err != nil {
		return res, fmt.Errorf("list practices of %s: %w", ccgCode, err)
	}
	return res, nil
}

// PracticesOf lists every practice of a CCG by name (none outside the
// scope): for forms that offer them all, so no count and no page. The
// largest CCG has 354.
func PracticesOf(ctx context.Context, db postgres.Querier, scope Scope, ccgCode string) ([]Practice, error) {
	if !scope.Allows(ccgCode) {
		return nil, nil
	}
	rows, err := db.Query(ctx, `SELECT `+practiceColumns+`
		FROM practices p JOIN ccgs c ON c.code = p.ccg_code
		WHERE p.ccg_code = $1 ORDER BY p.name, p.code`, ccgCode)
	if err != nil {
		return nil, fmt.Errorf("practices of %s: %w", ccgCode, err)
	}
	ps, err := pgx.CollectRows(rows, scanPractice)
	if err != nil {
		return nil, fmt.Errorf("practices of %s: %w", ccgCode, err)
	}
	return ps, nil
}

// GetPractice returns one practice, or NotFound when it does not exist or
// belongs to a CCG outside the scope.
func GetPractice(ctx context.Context, db postgres.Querier, scope Scope, code string) (Practice, error) {
	all, ccg := scope.SQLArgs()
	rows, err := db.Query(ctx, `SELECT `+practiceColumns+`
		FROM practices p JOIN ccgs c ON c.code = p.ccg_code
		WHERE p.code = $3 AND ($1 OR p.ccg_code = $2)`, all, ccg, code)
	if err != nil {
		return Practice{}, fmt.Errorf("get practice %s: %w", code, err)
	}
	p, err := pgx.CollectExactlyOneRow(rows, scanPractice)
	if err != nil {
		return Practice{}, postgres.NotFound(err, "No practice has the code %s.", code)
	}
	return p, nil
}
