DROP TABLE dpia_screenings;
