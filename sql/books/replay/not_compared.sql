-- The live entries of the types the replay does not derive, by type: reported, never compared.
-- :excluded_types  text[]
SELECT entry_type, count(*) AS entries FROM public.journal_entries
WHERE entry_type = ANY (CAST(:excluded_types AS text[]))
GROUP BY entry_type ORDER BY entry_type
