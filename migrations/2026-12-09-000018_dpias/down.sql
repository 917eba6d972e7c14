DROP TABLE dpia_activities;
DROP TABLE dpias;
