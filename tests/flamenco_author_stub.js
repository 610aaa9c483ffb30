// A small stand-in for Flamenco's job-compiler API (the `author` global and the job object), to run
// a custom job type under node: `node flamenco_author_stub.js JOB_TYPE.js SETTINGS.json` prints
// {"jobType": JOB_TYPE, "tasks": [{name, type, commands: [{type, parameters}]}]} or {"error": message}.
const fs = require("fs");
const vm = require("vm");

const [jobTypeFile, settingsFile] = process.argv.slice(2);
const author = {
  Task(name, type) {
    const task = { name, type, commands: [], dependencies: [] };
    task.addCommand = (command) => task.commands.push(command);
    task.addDependency = (other) => task.dependencies.push(other.name);
    return task;
  },
  Command(type, parameters) {
    return { type, parameters };
  },
};
const job = { settings: JSON.parse(fs.readFileSync(settingsFile, "utf8")), tasks: [] };
job.addTask = (task) => job.tasks.push(task);

const context = vm.createContext({ author });
vm.runInContext(fs.readFileSync(jobTypeFile, "utf8") + "\nthis.JOB_TYPE = JOB_TYPE;", context);
try {
  context.compileJob(job);
  const tasks = job.tasks.map(({ name, type, commands, dependencies }) => ({ name, type, commands, dependencies }));
  console.log(JSON.stringify({ jobType: context.JOB_TYPE, tasks }));
} catch (error) {
  console.log(JSON.stringify({ error: String(error) }));
}
