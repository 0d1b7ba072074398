-- The access log without per-row foreign keys: a page of 50 reads wrote 50 rows, and each row
-- fired two referential checks (developers, skills), each a SELECT … FOR KEY SHARE on the same
-- developer and skill rows. 100 checks per page, and concurrent pages of one developer share
-- those row locks through multixacts: the access-log insert was the read path's costliest
-- statement. Developers and skills are never deleted (no role has DELETE on them), so the
-- keys only ever refused a row naming a developer or skill that does not exist. What refuses
-- it now, once per statement:
--  - developer_id: access_log_verified_insert (0002) pins it to the verified developer;
--  - skill_id: the policy below pins it to one of that developer's own skills (stronger than
--    the key, which took any skill).
-- The system's writes (maintenance, tests) are trusted as they were for every other column.
ALTER TABLE access_log DROP CONSTRAINT access_log_developer_id_fkey;
ALTER TABLE access_log DROP CONSTRAINT access_log_skill_id_fkey;

CREATE POLICY access_log_own_skill ON access_log AS RESTRICTIVE FOR INSERT
    WITH CHECK ((SELECT gateway_verified_role()) IS DISTINCT FROM 'developer'
                OR skill_id IN (SELECT s.id FROM skills s
                                WHERE s.developer_id = (SELECT gateway_verified_developer_id())));
