DROP TRIGGER practices_recount_insert ON practices;
DROP TRIGGER practices_recount_update ON practices;
DROP TRIGGER practices_recount_delete ON practices;
DROP FUNCTION practices_recount();
DROP FUNCTION recount_ccg_practices(text[]);
DROP TABLE ccg_practice_counts;
