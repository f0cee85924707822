-- RedriveExecution records when an execution was last redriven (DescribeExecution.redriveDate).
ALTER TABLE executions ADD COLUMN redrive_date INTEGER;
