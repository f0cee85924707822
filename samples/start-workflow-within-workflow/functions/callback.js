// The child state machine's callback: it receives the parent's task token (which the parent put
// into the child's input) and a message, and completes the parent's .waitForTaskToken task with
// SendTaskSuccess. No endpoint in code: the SDK takes it from the environment (AWS_ENDPOINT_URL),
// which is how the same code runs in AWS and against ironstep.
const { SFNClient, SendTaskSuccessCommand } = require("@aws-sdk/client-sfn");

const client = new SFNClient({});

exports.lambda_handler = async (event) => {
  console.log(`Calling back with "${event.Message}"`);
  await client.send(
    new SendTaskSuccessCommand({
      taskToken: event.TaskToken,
      output: JSON.stringify(event.Message),
    }),
  );
  console.log("SendTaskSuccess sent");
  return { status: "sent" };
};
