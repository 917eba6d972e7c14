DROP TABLE accountability_packs;
