-- Queries quoted inline (not through digital-twins-docs-code) in the
-- Azure Digital Twins documentation, MicrosoftDocs/azure-docs; see SOURCE.md.
-- Tags name the page and the spot; the text between the tags is verbatim.

-------------- articles/digital-twins/reference-query-clause-match.md (Limitations)
-- <MatchLimitationDtIdExample>
SELECT A, B, C FROM DIGITALTWINS 
MATCH A-[contains]->B-[is_part_of]->C 
WHERE B.$dtId = 'Device01'
-- </MatchLimitationDtIdExample>

-------------- articles/digital-twins/reference-query-functions.md (ARRAY_CONTAINS limitations)
-- <ArrayContainsSubqueryNegative>
SELECT T.name FROM DIGITALTWINS T WHERE ARRAY_CONTAINS (SELECT S.floor_number FROM DIGITALTWINS S, 4)
-- </ArrayContainsSubqueryNegative>

-- <ArrayContainsRelationshipNegative>
SELECT Room FROM DIGITALTWINS Floor JOIN Room RELATED Floor.Contains WHERE 	Floor.$dtId = 'Floor-35' AND ARRAY_CONTAINS(Floor.Contains.lift, "operating")
-- </ArrayContainsRelationshipNegative>

-- <ArrayContainsNested>
SELECT * FROM DIGITALTWINS WHERE ARRAY_CONTAINS(tags, 2)
-- </ArrayContainsNested>

-- <ArrayContainsTopLevel>
SELECT * FROM DIGITALTWINS WHERE ARRAY_CONTAINS(tags, 1)
-- </ArrayContainsTopLevel>

-- <ArrayContainsObjectsNegative>
SELECT * FROM DIGITALTWINS WHERE ARRAY_CONTAINS(tags, Room2)
-- </ArrayContainsObjectsNegative>

-------------- articles/digital-twins/how-to-query-graph.md (2020 revision, inline queries)
-- <LowerCaseKeywords>
select * from digitaltwins where is_defined(tags.red) 
-- </LowerCaseKeywords>

-- <MixedCaseCollection>
SELECT  * 
FROM DigitalTwins T  
WHERE T.firmwareVersion = '1.1'
AND T.$dtId in ['123', '456']
AND T.Temperature = 70
-- </MixedCaseCollection>

-- <IsOfModelAllArguments>
SELECT ROOM FROM DIGITALTWINS DT WHERE IS_OF_MODEL(DT, 'dtmi:sample:thing;1', exact)
-- </IsOfModelAllArguments>

-- <CompoundMxChip>
SELECT device
FROM DigitalTwins space
JOIN device RELATED space.has
WHERE space.$dtid = 'Room 123'
AND device.$metadata.model = 'dtmi:contosocom:DigitalTwins:MxChip:3'
AND has.role = 'Operator'
-- </CompoundMxChip>
