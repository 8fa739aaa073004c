-- The label on a catalogue item's button (at most about 24 characters, two buttons a
-- row); empty where there is none, and the button then shows the full name. The full
-- (legal) name stays in name_vi/name_en for summaries, alerts, exports and digests.
-- A deployment seeded before this gets the shipped labels at its next start
-- (storage/catalogue.py), for the items it still has under their shipped names.
ALTER TABLE catalogue_items ADD COLUMN short_vi TEXT NOT NULL DEFAULT '';
ALTER TABLE catalogue_items ADD COLUMN short_en TEXT NOT NULL DEFAULT '';
