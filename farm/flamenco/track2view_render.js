// SPDX-License-Identifier: GPL-3.0-or-later
//
// Flamenco job type "Track2View Render": one task per shot, each running
//   {blender} {blenderArgs} --python-exit-code 1 -c track2view render SHOT.blend [--camera NAME]
//       [--preview] [--output ROOT/SHOT_NAME] [--model DIR]
// (the add-on's headless command, bridge/blender_cli.py: it opens the shot, renders its new view into
// the sequencer's render folders and exits 1 on any failure, which fails the task).
//
// Install: copy this file into the Flamenco Manager's `scripts/` folder and restart the Manager;
// the Workers need Blender with the Track2View extension installed. Submit from Blender's Flamenco
// add-on (the current .blend is the default shot) or with Flamenco's API.

const JOB_TYPE = {
  label: "Track2View Render",
  description: "Render the Track2View new view of one or more shots, one shot per task",
  settings: [
    {
      key: "shots",
      type: "string",
      required: true,
      eval: "bpy.data.filepath",
      description: "The shots' .blend files, one per line or separated by ';' (default: this file)",
    },
    {
      key: "camera",
      type: "string",
      default: "",
      description: "Target camera object in every shot (empty: each shot's Target Camera)",
    },
    {
      key: "preview",
      type: "bool",
      default: false,
      description: "Render the geometric-warp preview instead of the model (fast, no GPU)",
    },
    {
      key: "output_root",
      type: "string",
      subtype: "dir_path",
      default: "",
      description: "Folder for the renders, one subfolder per shot (empty: beside each .blend)",
    },
    {
      key: "model",
      type: "string",
      subtype: "dir_path",
      default: "",
      description: "Track2View model folder (empty: the add-on's preference, else the built-in model)",
    },
  ],
};

// The shots of the "shots" setting: non-empty entries, one per line or separated by ';'.
function shotPaths(text) {
  return String(text || "")
    .split(/[;\n]/)
    .map((s) => s.trim())
    .filter((s) => s.length > 0);
}

// "…/seq010/shot_020.blend" → "shot_020" (both slash kinds: Windows Workers).
function shotName(path) {
  const base = path.split(/[\\/]/).pop();
  return base.replace(/\.blend$/i, "");
}

function joinPath(root, name) {
  const separator = root.includes("\\") && !root.includes("/") ? "\\" : "/";
  return root.replace(/[\\/]+$/, "") + separator + name;
}

function compileJob(job) {
  const settings = job.settings;
  const shots = shotPaths(settings.shots);
  if (shots.length === 0) {
    throw "Track2View Render: no shots: set 'shots' to the .blend files, one per line";
  }
  const names = shots.map(shotName);
  const twice = names.find((name, i) => names.indexOf(name) !== i);
  if (settings.output_root && twice) {
    throw `Track2View Render: two shots are named '${twice}'; their renders would share a folder under output_root`;
  }
  shots.forEach((shot, i) => {
    const args = ["--python-exit-code", "1", "-c", "track2view", "render", shot];
    if (settings.camera) args.push("--camera", settings.camera);
    if (settings.preview) args.push("--preview");
    if (settings.output_root) args.push("--output", joinPath(settings.output_root, names[i]));
    if (settings.model) args.push("--model", settings.model);
    const task = author.Task(`render ${names[i]}`, "blender");
    task.addCommand(
      author.Command("blender-render", {
        exe: "{blender}",
        exeArgs: "{blenderArgs}",
        argsBefore: [],
        blendfile: "",
        args: args,
      })
    );
    job.addTask(task);
  });
}
